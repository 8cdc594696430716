# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 trialsnest

# The pinned, hashed versions CI tested, without the development tools or the embedded
# PostgreSQL (requirements/base.txt, made by `make lock`).
COPY requirements/base.txt requirements/base.txt
RUN pip install --upgrade pip && pip install --require-hashes -r requirements/base.txt
COPY . .
# Editable, so the code, templates and static files are read from /app.
RUN pip install --no-deps -e .
# collectstatic needs settings that import; the real secret arrives at run time.
RUN DEBUG=false SECRET_KEY=build-only EMAIL_URL=console:// \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/media && chown -R trialsnest /app/.data /app/media

USER trialsnest
EXPOSE 8000
# The web container's check; compose gives the worker and beat their own.
HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "-m", "trialsnest.ops.probe"]
CMD ["gunicorn", "trialsnest.wsgi:application", "--config", "python:trialsnest.gunicorn"]

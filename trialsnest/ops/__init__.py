"""Operations: health, worker liveness, the demo launcher and the demo data."""

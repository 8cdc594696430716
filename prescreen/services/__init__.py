"""Every write of the prescreen app, one module per job: building questionnaires and asking them.

Each service is atomic and writes its audit row in the same transaction.
"""

"""Root fixtures shared by every test tree.

Infrastructure is chosen in this order (DESIGN §9): environment variables
(DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS) → testcontainers when a Docker engine
answers → the project's own scripts in deploy/local/ (which `make test` runs first).
"""

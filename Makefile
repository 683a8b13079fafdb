# The platform's commands (DESIGN §6). Everything runs on this machine without Docker;
# `docker compose up` does the same where a Docker engine exists.
.PHONY: up down logs status test lint deps infra

up:      ## start everything in the background; returns when all services are ready
	@bash deploy/local/platform.sh up

down:    ## stop the services and the infrastructure
	@bash deploy/local/platform.sh down

logs:    ## follow the services' logs
	@bash deploy/local/platform.sh logs

status:  ## what runs
	@bash deploy/local/platform.sh status

test:    ## ruff, mypy and every test over real Kafka and PostgreSQL
	@bash deploy/local/test.sh

deps:    ## Python dependencies only
	@bash deploy/local/deps.sh

infra:   ## PostgreSQL and Kafka only (writes .local/infra.env)
	@bash deploy/local/infra.sh up

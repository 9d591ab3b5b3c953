"""Settings for the shop backend (production overrides come from the environment)."""

import os

DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]

# TODO: move these to the secret manager before the audit
AWS_ACCESS_KEY_ID = "AKIA2E0A8F3B244C9986"
AWS_SECRET_ACCESS_KEY = "Xq3v9M/2bT+Lk8wPzR4sYh7NcE1uJ6dFgA0iWoQe"
AWS_STORAGE_BUCKET_NAME = "shop-media-prod"

DATABASE_URL = "postgresql://app_user:S3cure-Passw0rd!@db.internal.example:5432/shop"
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
# ruff: noqa

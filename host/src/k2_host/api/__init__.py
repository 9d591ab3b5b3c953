"""The host as a service (`k2 serve`): an OpenAI-compatible REST API over one runtime, with API keys or JWTs,
roles that limit endpoints and tools, and a hash-chained audit log.

    keys.py    API keys: created with a role, stored hashed (`<state dir>/api/keys.json`), revocable
    roles.py   roles and their permissions; the approval policy that limits tools by the caller's role
    audit.py   the append-only audit log (`<state dir>/api/audit.jsonl`) and its verification
    app.py     the Starlette application: routes, authentication, rate limits, body caps
    serve.py   binding rules (auth and TLS beyond loopback) and uvicorn
"""

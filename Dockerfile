# Production image of the 政务超级应用 app. No embedded servers: MongoDB and Redis come
# from MONGODB_URI / REDIS_URL (see docker-compose.yml).

# The H5 front end, built once (the app serves h5/dist).
FROM node:20-slim AS h5
WORKDIR /h5
COPY h5/package.json h5/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY h5/ ./
RUN npm run build --silent

FROM python:3.11-slim

# A CJK font for certificate images.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SUPERAPP_ENV=production \
    SUPERAPP_HTTP__HOST=0.0.0.0 \
    SUPERAPP_HTTP__PORT=8000 \
    SUPERAPP_HTTP__XHEADERS=true

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
# Every package of the product: the platform, the domains and the composition root.
COPY server ./server
COPY identity ./identity
COPY card_wallet ./card_wallet
COPY matters ./matters
COPY notifications ./notifications
COPY tickets ./tickets
COPY halls ./halls
COPY proxies ./proxies
COPY policies ./policies
COPY payments ./payments
COPY superapp ./superapp
COPY config ./config
COPY --from=h5 /h5/dist ./h5/dist
# Editable install keeps config/ beside the code (the app resolves it from its own root).
RUN pip install --no-cache-dir -c requirements.lock -e . \
 && useradd --system --uid 10001 --home-dir /app superapp
USER superapp

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3).status != 200)"
STOPSIGNAL SIGTERM
CMD ["python", "-m", "superapp"]

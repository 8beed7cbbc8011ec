FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The whole tree is copied (not just the package) because `rekam migrate`
# needs migrations/ and the demo data next to it at run time.
COPY . .
RUN pip install . \
    && useradd --system --no-create-home --home-dir /app rekam \
    && mkdir -p /app/var && chown rekam /app/var

USER rekam
EXPOSE 8000
CMD ["rekam", "serve", "--host", "0.0.0.0", "--port", "8000"]

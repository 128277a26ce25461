# mes-sandbox image: one process serving HTTP (8080) and HTTPS (8443, test PKI; INSi mutual TLS).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY psc ./psc
COPY ins ./ins
COPY dmp ./dmp
COPY mss ./mss
COPY profiles ./profiles
COPY conformance ./conformance
RUN pip install --no-cache-dir .
ENV MES_SANDBOX_HOST=0.0.0.0 \
    MES_SANDBOX_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080 8443 2525 2465 2143 2993
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status == 200 else 1)"
CMD ["mes-sandbox", "serve"]

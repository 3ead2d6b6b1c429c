#!/bin/sh
# Starts SeaweedFS with its S3 gateway and one identity built from the environment, so that the
# keys live in .env only (SeaweedFS reads S3 identities from a JSON file, not from variables).
set -eu
umask 077
printf '{"identities":[{"name":"folio","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
  "$S3_ACCESS_KEY" "$S3_SECRET_KEY" > /tmp/s3.json
exec weed server -dir=/data -s3 -s3.port=8333 -s3.config=/tmp/s3.json

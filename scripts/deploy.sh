#!/usr/bin/env bash
# Deploys the bundle to the current kubectl context (Knative Serving + Eventing with the Kafka extension).
#
#   REGISTRY=ghcr.io/medlab TAG=$(git rev-parse --short HEAD) \
#   DATABASE_URL=postgresql://… AUTH_JWT_SECRET=… scripts/deploy.sh [--dry-run]
#
# 1. the Secret portal-secrets from the environment (never committed)
# 2. database migrations (offline WASM engine; same records as `prisma migrate deploy`)
# 3. one image per function (Dockerfile, FUNCTION build arg), pushed to REGISTRY
# 4. knative/base rendered with those images and applied (Services, KafkaSources, PingSources, HTTPRoute)
# --dry-run prints the commands and the rendered manifests without touching a cluster or registry.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=false
[ "${1:-}" = "--dry-run" ] && dry=true
REGISTRY="${REGISTRY:?set REGISTRY, e.g. ghcr.io/medlab}"
TAG="${TAG:-$(git rev-parse --short HEAD)}"
NAMESPACE="${NAMESPACE:-patient-portal}"

run() { if $dry; then echo "+ $*"; else "$@"; fi; }

if ! $dry; then
  : "${DATABASE_URL:?set DATABASE_URL for the migrations and the Secret}"
  : "${AUTH_JWT_SECRET:?set AUTH_JWT_SECRET (the token signing key)}"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
  kubectl -n "$NAMESPACE" create secret generic portal-secrets \
    --from-literal=database-url="$DATABASE_URL" --from-literal=auth-jwt-secret="$AUTH_JWT_SECRET" \
    --dry-run=client -o yaml | kubectl apply -f -
  npm run db:migrate
else
  echo "+ kubectl -n $NAMESPACE create secret generic portal-secrets (database-url, auth-jwt-secret) | kubectl apply -f -"
  echo "+ npm run db:migrate"
fi

# kustomize takes only relative resource paths: the generated overlay lives inside the checkout.
overlay="$(pwd)/.deploy"
rm -rf "$overlay" && mkdir -p "$overlay"
trap 'rm -rf "$overlay"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "namespace: $NAMESPACE"
  echo "resources:"
  echo "  - ../knative/base"
  echo "images:"
} > "$overlay/kustomization.yaml"

while read -r service folder; do
  image="$REGISTRY/patient-portal/$service:$TAG"
  run docker build --build-arg "FUNCTION=$folder" -t "$image" .
  run docker push "$image"
  printf '  - name: patient-portal/%s\n    newName: %s/patient-portal/%s\n    newTag: "%s"\n' "$service" "$REGISTRY" "$service" "$TAG" >> "$overlay/kustomization.yaml"
done < <(npx --no-install tsx scripts/list-functions.ts)

if $dry; then
  kubectl kustomize "$overlay"
else
  kubectl apply -k "$overlay"
fi

#!/usr/bin/env bash
# Deploys the bundle to the current kubectl context (Knative Serving + Eventing with the Kafka extension).
#
#   REGISTRY=ghcr.io/medlab TAG=$(git rev-parse --short HEAD) \
#   DATABASE_URL=postgresql://… scripts/deploy.sh [--overlay staging|production] [--dry-run]
#
# 0. npm run manifests:check (schemas and cross-checks; stops here on any finding)
# 1. the Secret portal-secrets from the environment (never committed; keys as knative/secret-keys.yaml)
# 2. database migrations (offline WASM engine; same records as `prisma migrate deploy`)
# 3. one image per function (Dockerfile, FUNCTION build arg), pushed to REGISTRY
# 4. the overlay (default production) rendered with those images and applied: Services, KafkaSources,
#    PingSources, HTTPRoute, ConfigMap and the KEDA ScaledObjects
# --dry-run prints the commands and the rendered manifests without touching a cluster or registry.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=false
overlay_name=production
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=true ;;
    --overlay) overlay_name="${2:?--overlay needs staging or production}"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -d "knative/overlays/$overlay_name" ] || { echo "no overlay knative/overlays/$overlay_name" >&2; exit 2; }
REGISTRY="${REGISTRY:?set REGISTRY, e.g. ghcr.io/medlab}"
TAG="${TAG:-$(git rev-parse --short HEAD)}"
NAMESPACE="${NAMESPACE:-$(sed -n 's/^namespace: //p' "knative/overlays/$overlay_name/kustomization.yaml")}"

run() { if $dry; then echo "+ $*"; else "$@"; fi; }

npm run --silent manifests:check

if ! $dry; then
  : "${DATABASE_URL:?set DATABASE_URL for the migrations and the Secret}"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
  kubectl -n "$NAMESPACE" create secret generic portal-secrets \
    --from-literal=database-url="$DATABASE_URL" \
    --dry-run=client -o yaml | kubectl apply -f -
  npm run db:migrate
else
  echo "+ kubectl -n $NAMESPACE create secret generic portal-secrets (database-url) | kubectl apply -f -"
  echo "+ npm run db:migrate"
fi

# kustomize takes only relative resource paths: the generated overlay lives inside the checkout.
overlay="$(pwd)/.deploy"
rm -rf "$overlay" && mkdir -p "$overlay"
trap 'rm -rf "$overlay"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - ../knative/overlays/$overlay_name"
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

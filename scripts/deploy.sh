#!/usr/bin/env bash
# Deploys the bundle to the current kubectl context (Knative Serving + Eventing with the Kafka extension).
#
#   REGISTRY=ghcr.io/medlab TAG=$(git rev-parse --short HEAD) DATABASE_URL=postgresql://… \
#   AUTH_JWKS_URL=https://id.medlab.example/realms/clinic/protocol/openid-connect/certs \
#   AUTH_ISSUER=https://id.medlab.example/realms/clinic AUTH_AUDIENCE=patient-portal \
#   scripts/deploy.sh [--overlay staging|production] [--dry-run]
#
# 0. npm run manifests:check (schemas and cross-checks; stops here on any finding)
# 1. the Secret portal-secrets (database-url) from the environment (never committed; keys as
#    knative/secret-keys.yaml), and dead-letter-alert-email (SMTP_URL, DEAD_LETTER_ALERT_EMAIL: where the
#    dead-letter alerts are emailed until the notification system delivers them; DEAD_LETTER_ALERT_EMAIL=off
#    then, and SMTP_URL is not needed), notification-links (NOTIFICATION_LINK_SECRET, which signs results
#    links), and notification-providers (the patients' email, SMS and Web Push
#    providers: the keys knative/secret-keys.yaml lists under it). Tokens need no secret: they are verified with the OpenID Connect provider's
#    public keys, whose JWKS URL, issuer and audience go into the ConfigMap portal-config (auth-jwks-url,
#    auth-issuer, auth-audience) from AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE.
# 2. database migrations (offline WASM engine; same records as `prisma migrate deploy`)
# 3. one image per function (Dockerfile, FUNCTION build arg), pushed to REGISTRY
# 4. the overlay (default production) rendered with those images and applied: Services, KafkaSources,
#    PingSources, HTTPRoute, ConfigMap and the KEDA ScaledObjects
# --dry-run prints the commands and the rendered manifests without touching a cluster or registry; it needs
# none of the variables above and names the placeholder it uses for each one unset.
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
# A real deploy needs every setting; a dry run shows where each one goes, with a placeholder it names.
setting() { # name, what it is, dry-run placeholder
  if [ -n "${!1:-}" ]; then return; fi
  if ! $dry; then echo "set $1 ($2)" >&2; exit 2; fi
  printf -v "$1" '%s' "$3"
  echo "dry run: $1 is unset, using the placeholder $3" >&2
}
setting REGISTRY 'the image registry, e.g. ghcr.io/medlab' registry.invalid/medlab
setting AUTH_JWKS_URL "the OpenID Connect provider's JWKS URL" https://oidc.invalid/jwks
setting AUTH_ISSUER 'the iss of the provider tokens' https://oidc.invalid
setting AUTH_AUDIENCE 'the aud the provider puts in portal tokens' patient-portal
setting DEAD_LETTER_ALERT_EMAIL "the operators' addresses for dead-letter alerts (comma list), or off" ops@medlab.invalid
if [ "$DEAD_LETTER_ALERT_EMAIL" != off ]; then setting SMTP_URL 'the SMTP server for alert email, smtp://user:pass@host:587' smtp://smtp.invalid:587; fi
# The notification providers (knative/secret-keys.yaml, notification-providers): the sender will not start without them.
setting NOTIFICATION_SMTP_URL "the SMTP server for patients' email, smtp://user:pass@host:587" smtp://smtp.invalid:587
setting NOTIFICATION_EMAIL_FROM "the From of patients' email" 'MedLab <no-reply@medlab.invalid>'
setting SMS_API_URL "the SMS provider's API base (Twilio-shaped), https://…" https://sms.invalid
setting SMS_ACCOUNT_SID 'the SMS provider account' AC-placeholder
setting SMS_AUTH_TOKEN "the SMS provider's auth token" sms-token-placeholder
setting SMS_FROM 'the SMS sender id or number' MEDLAB
setting VAPID_PUBLIC_KEY 'Web Push public key (npx web-push generate-vapid-keys)' vapid-public-placeholder
setting VAPID_PRIVATE_KEY 'Web Push private key' vapid-private-placeholder
setting VAPID_SUBJECT 'Web Push contact, mailto:…' mailto:ops@medlab.invalid
setting PUBLIC_URL "the portal's public base URL, where providers call back" https://portal.invalid
# notification-links: the key that signs results links into the portal (the results consumer will not start without it).
setting NOTIFICATION_LINK_SECRET 'the HMAC key of results links, at least 32 characters (e.g. openssl rand -base64 48)' dry-run-placeholder-link-secret-0123456789abcdef
# Functions refuse to start without https keys (NODE_ENV=production); better to stop before deploying.
case "$AUTH_JWKS_URL" in https://*) ;; *) echo "AUTH_JWKS_URL must be an https URL, not $AUTH_JWKS_URL" >&2; exit 2 ;; esac
if [ -n "${AUTH_JWT_SECRET:-}" ]; then
  echo "AUTH_JWT_SECRET is ignored: deployed functions accept only the provider's tokens" >&2
fi
TAG="${TAG:-$(git rev-parse --short HEAD)}"
NAMESPACE="${NAMESPACE:-$(sed -n 's/^namespace: //p' "knative/overlays/$overlay_name/kustomization.yaml")}"

run() { if $dry; then echo "+ $*"; else "$@"; fi; }

npm run --silent manifests:check

if ! $dry; then
  : "${DATABASE_URL:?set DATABASE_URL for the migrations and the Secret}"
  kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
  kubectl -n "$NAMESPACE" create secret generic portal-secrets --from-literal=database-url="$DATABASE_URL" \
    --dry-run=client -o yaml | kubectl apply -f -
  kubectl -n "$NAMESPACE" create secret generic dead-letter-alert-email --from-literal=DEAD_LETTER_ALERT_EMAIL="$DEAD_LETTER_ALERT_EMAIL" \
    --from-literal=SMTP_URL="${SMTP_URL:-}" --dry-run=client -o yaml | kubectl apply -f -
  kubectl -n "$NAMESPACE" create secret generic notification-providers --from-literal=SMTP_URL="$NOTIFICATION_SMTP_URL" \
    --from-literal=NOTIFICATION_EMAIL_FROM="$NOTIFICATION_EMAIL_FROM" --from-literal=SMS_API_URL="$SMS_API_URL" \
    --from-literal=SMS_ACCOUNT_SID="$SMS_ACCOUNT_SID" --from-literal=SMS_AUTH_TOKEN="$SMS_AUTH_TOKEN" --from-literal=SMS_FROM="$SMS_FROM" \
    --from-literal=VAPID_PUBLIC_KEY="$VAPID_PUBLIC_KEY" --from-literal=VAPID_PRIVATE_KEY="$VAPID_PRIVATE_KEY" \
    --from-literal=VAPID_SUBJECT="$VAPID_SUBJECT" --from-literal=PUBLIC_URL="$PUBLIC_URL" --dry-run=client -o yaml | kubectl apply -f -
  kubectl -n "$NAMESPACE" create secret generic notification-links --from-literal=NOTIFICATION_LINK_SECRET="$NOTIFICATION_LINK_SECRET" \
    --dry-run=client -o yaml | kubectl apply -f -
  npm run db:migrate
else
  echo "+ kubectl -n $NAMESPACE create secret generic portal-secrets (database-url) | kubectl apply -f -"
  echo "+ kubectl -n $NAMESPACE create secret generic dead-letter-alert-email (DEAD_LETTER_ALERT_EMAIL, SMTP_URL) | kubectl apply -f -"
  echo "+ kubectl -n $NAMESPACE create secret generic notification-providers (SMTP_URL, NOTIFICATION_EMAIL_FROM, SMS_API_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT, PUBLIC_URL) | kubectl apply -f -"
  echo "+ kubectl -n $NAMESPACE create secret generic notification-links (NOTIFICATION_LINK_SECRET) | kubectl apply -f -"
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
  echo "patches:"
  echo "  - path: auth-config.yaml"
  echo "images:"
} > "$overlay/kustomization.yaml"
yaml_string() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
{
  echo "apiVersion: v1"
  echo "kind: ConfigMap"
  echo "metadata:"
  echo "  name: portal-config"
  echo "data:"
  echo "  auth-jwks-url: $(yaml_string "$AUTH_JWKS_URL")"
  echo "  auth-issuer: $(yaml_string "$AUTH_ISSUER")"
  echo "  auth-audience: $(yaml_string "$AUTH_AUDIENCE")"
} > "$overlay/auth-config.yaml"

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

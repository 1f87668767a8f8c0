#!/usr/bin/env bash
# `make image-test`: build the project's Dockerfile, unchanged, and smoke-test the image.
#
# No Docker engine runs on CI's machines and no container registry is reachable, so this uses
# Podman (with runc) and a Debian base image bootstrapped here from Debian's packages. What this
# machine needs for the build (its CA bundle, its local torch wheel) goes into that base image
# and a read-only mount, never into the Dockerfile. Then it validates compose.yaml and runs
# tests/image/smoke.py. Everything installed or bootstrapped is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${IMAGE_TEST_DIR:-/var/tmp/tertulia-image-test}
IMAGE=localhost/tertulia:latest # what compose.yaml's `image: tertulia` names
BASE=localhost/tertulia-ci-base:bookworm
PY=${PY:-.venv/bin/python}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
WHEELS=${PIP_FIND_LINKS:-/opt/wheels} # this machine's local torch wheel, if it has one
MAX_IMAGE_MB=${MAX_IMAGE_MB:-2000}    # a CUDA torch by mistake would be several GB
mkdir -p "$WORK"

step_started=-1
step() {
    ((step_started < 0)) || echo "image-test: ... $((SECONDS - step_started)) s"
    step_started=$SECONDS
    [[ $# == 0 ]] || echo "image-test: $*"
}

step "Debian packages (podman, runc, mmdebstrap)"
packages=(podman runc catatonit containernetworking-plugins iptables mmdebstrap)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}") >"$WORK/apt.log" 2>&1; then
        cat "$WORK/apt.log" >&2
        exit 1
    fi
fi

# crun fails on this kernel's cgroup setup and default ulimits above the hard limit are refused:
# use runc, and ulimits no higher than this machine allows.
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$WORK/containers.conf

# The compose tools install in the background while the base image and the image are built.
if [[ ! -x $WORK/tools/bin/podman-compose ]]; then
    (python3 -m venv "$WORK/tools" \
        && "$WORK/tools/bin/pip" install podman-compose==1.6.0 check-jsonschema==0.39.0) \
        >"$WORK/tools.log" 2>&1 &
    tools_pid=$!
fi

if ! podman image exists "$BASE"; then
    step "base image: Debian bookworm with Python, bootstrapped from $DEBIAN_MIRROR"
    # The stand-in for python:*-slim. This machine's pip settings live here: its CA bundle (the
    # package index is reached through it) and the folder where the torch wheel is mounted.
    pip_conf="[global]\ncert = /etc/ssl/certs/ci-ca-bundle.crt\nfind-links = /ci/wheels\n"
    # force-unsafe-io: no fsync after each file (a third of the time), as Docker's own Debian
    # images do.
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv \
        --dpkgopt=force-unsafe-io --aptopt='Acquire::Languages "none"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook="cp '$CA_BUNDLE' \"\$1/etc/ssl/certs/ci-ca-bundle.crt\"" \
        --customize-hook="printf '$pip_conf' >\"\$1/etc/pip.conf\"; mkdir -p \"\$1/ci/wheels\"" \
        bookworm "$WORK/base.tar" "$DEBIAN_MIRROR"
    podman import --quiet --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV=LANG=C.UTF-8' --change 'CMD=["python3"]' "$WORK/base.tar" "$BASE" >/dev/null
    rm "$WORK/base.tar"
fi

step "podman build (the Dockerfile as it is; build arguments only)"
build_args=(--build-arg "BASE_IMAGE=$BASE")
mounts=()
if [[ -d $WHEELS ]] && compgen -G "$WHEELS/torch-*.whl" >/dev/null; then
    # Torch from the local wheel (find-links), its own dependencies from the package index.
    build_args+=(--build-arg "TORCH_INDEX=https://pypi.org/simple")
    mounts=(-v "$WHEELS:/ci/wheels:ro")
fi
if ! podman build --pull=never "${build_args[@]}" "${mounts[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    echo "image-test: podman build failed (whole log: $WORK/build.log)" >&2
    exit 1
fi
size_mb=$(($(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000))
echo "image $IMAGE: $size_mb MB"
if ((size_mb > MAX_IMAGE_MB)); then
    echo "image-test: the image is $size_mb MB, over MAX_IMAGE_MB=$MAX_IMAGE_MB" >&2
    exit 1
fi

step "compose.yaml: validated by check-jsonschema and podman-compose"
if [[ -n ${tools_pid:-} ]] && ! wait "$tools_pid"; then
    cat "$WORK/tools.log" >&2
    echo "image-test: could not install podman-compose and check-jsonschema" >&2
    exit 1
fi
# The Compose Specification's JSON schema (Docker Compose v2 validates against the same spec),
# then podman-compose's own reading of the file, with each profile it declares.
"$WORK/tools/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml
profiles=$("$WORK/tools/bin/python" -c '
import yaml
services = yaml.safe_load(open("compose.yaml"))["services"].values()
print(" ".join(sorted({p for s in services for p in s.get("profiles", [])})))')
for profile in "" $profiles; do
    "$WORK/tools/bin/podman-compose" ${profile:+--profile "$profile"} -f compose.yaml config >/dev/null
    echo "podman-compose config: ok${profile:+ (profile $profile)}"
done
if docker compose version >/dev/null 2>&1; then
    docker compose -f compose.yaml config --quiet && echo "docker compose config: ok"
fi

step "smoke tests (tests/image/smoke.py)"
"$PY" -m tests.image.smoke "$IMAGE" --engine podman --compose "$WORK/tools/bin/podman-compose"
step
echo "image-test: passed in $SECONDS s"

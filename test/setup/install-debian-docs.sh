#!/usr/bin/env bash
# pretest: the crawler and HTML-cleaning tests serve Debian's real HTML documentation on 127.0.0.1;
# the evaluation tasks read WordNet; benches compare with SentencePiece and read translated manual pages.
# Install the packages when they are missing (a fresh Debian machine), quietly when they are present.
set -euo pipefail
need=()
[ -d /usr/share/doc/postgresql-doc-15/html ] || need+=(postgresql-doc-15)
[ -d /usr/share/doc/linux-doc-6.1/html ] || need+=(linux-doc-6.1)
# the word-definition eval task (operators/eval/tasks) reads WordNet's dictionary files
[ -f /usr/share/wordnet/data.noun ] || need+=(wordnet-base)
# the dashboard and report tests (test/ui) drive Debian's chromium through playwright-core (never a downloaded one)
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev) # the native matmul (src/nn/backend/native) links it
# tokenizer training and loading are compared with SentencePiece's own spm_train/spm_encode (bench, fixture scripts)
command -v spm_train >/dev/null || need+=(sentencepiece)
# language identification is checked on Debian's translated manual pages (bench clean, bench language)
# (Korean pages come with man-db, xz-utils and others: bookworm has no manpages-ko)
for l in de fr ja es it pl ru pt-br nl ro cs uk sv fi da hu tr; do
  dpkg -s "manpages-$l" >/dev/null 2>&1 || need+=("manpages-$l")
done
command -v groff >/dev/null || need+=(groff-base) # the roff-to-text test compares with groff's own rendering
# the cluster tests (test/cluster) start a real JetStream server on 127.0.0.1; Debian puts it in /usr/sbin
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
[ ${#need[@]} -eq 0 ] && exit 0
echo "pretest: installing Debian packages the tests serve: ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "pretest: need root (or sudo) to apt-get install ${need[*]}; install them and re-run" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

#!/usr/bin/env bash
# Refresh and compile the English translation catalogue of StoreOps.
#
#   scripts/i18n.sh            update storeops/locale/en/LC_MESSAGES/django.po from the source
#                              and compile django.mo
#   scripts/i18n.sh --check    the same, then exit 1 if any message is untranslated or fuzzy
#                              (for CI; it still rewrites the .po/.mo in place)
#
# Source strings are Simplified Chinese (`_("运营手册")`, `{% trans "问题看板" %}`); English
# lives in storeops/locale/en/LC_MESSAGES/django.po. After running this script:
#   * a NEW source string appears in django.po with an EMPTY msgstr  -> translate it;
#   * a CHANGED source string may appear with a "#, fuzzy" flag and a guessed msgstr
#     (msgmerge matched it to a similar old string) -> check the translation, then delete
#     the "#, fuzzy" line. Django ignores fuzzy entries, so until then the page shows Chinese;
#   * strings deleted from the source are dropped (--no-obsolete).
# Keep %(name)s placeholders (and {{ var }} of blocktrans, written as %(var)s in the .po)
# exactly as in the msgid. Then run this script again to compile.
#
# The compiled django.mo is committed: a fresh machine may not have GNU gettext, which
# this script needs (Debian: apt-get install gettext).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PO="$ROOT/storeops/locale/en/LC_MESSAGES/django.po"
if [[ -x "$ROOT/.venv/bin/django-admin" ]]; then
  DJANGO_ADMIN="$ROOT/.venv/bin/django-admin"
else
  DJANGO_ADMIN="django-admin"
fi
for tool in xgettext msgmerge msgfmt msgattrib; do
  command -v "$tool" >/dev/null || { echo "i18n.sh: $tool not found; install GNU gettext (apt-get install gettext)" >&2; exit 2; }
done

export DJANGO_SETTINGS_MODULE=storeops.config.settings
# Settings create the var directory on import; keep that out of the working tree.
export STOREOPS_VAR_DIR="${STOREOPS_VAR_DIR:-$(mktemp -d)}"

mkdir -p "$ROOT/storeops/locale"
cd "$ROOT/storeops"
"$DJANGO_ADMIN" makemessages -l en --ignore 'static/*' --no-obsolete
"$DJANGO_ADMIN" compilemessages -l en

untranslated=$(msgattrib --untranslated --no-obsolete "$PO" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$PO" | grep -c '^msgid ' || true)
# msgattrib prints the header entry too (msgid ""), so subtract it when present.
(( untranslated > 0 )) && untranslated=$((untranslated - 1))
(( fuzzy > 0 )) && fuzzy=$((fuzzy - 1))
msgfmt --statistics -o /dev/null "$PO"
if (( untranslated + fuzzy > 0 )); then
  echo "i18n.sh: $untranslated untranslated and $fuzzy fuzzy message(s) in ${PO#"$ROOT"/}:" >&2
  { msgattrib --untranslated --no-obsolete --no-wrap "$PO"; msgattrib --only-fuzzy --no-obsolete --no-wrap "$PO"; } \
    | grep '^msgid "..*"' | sed 's/^/  /' >&2 || true
  [[ "${1:-}" == "--check" ]] && exit 1
fi
exit 0

#!/usr/bin/env bash
# make plugin NAME=foo: scaffolds plugins/foo/ from scripts/templates/ and
# prints the configuration block that loads it.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: new-plugin.sh NAME}
if ! [[ $name =~ ^[a-z][a-z0-9_]{0,31}$ ]]; then
	echo "plugin: NAME must be a C identifier in lower case (a-z, 0-9, _), at most 32 characters" >&2
	exit 2
fi
if [ -e "plugins/$name" ]; then
	echo "plugin: plugins/$name already exists" >&2
	exit 1
fi
mkdir -p "plugins/$name/migrations"
sed "s/@NAME@/$name/g" scripts/templates/plugin.c.in >"plugins/$name/$name.c"
cat >"plugins/$name/migrations/README" <<EOT
SQL files named NNNN_description.sql here are applied by 'billow migrate'
in order, once each, when the plugin is configured. Tenant tables follow
the core's rules: (tenant_id, id) keys, livemode, and row-level security.
EOT
echo "plugin: created plugins/$name/$name.c"
echo "plugin: build it with 'make', then add to your configuration:"
echo
echo "    plugin $name { path build/plugins/$name.so; greeting \"hello\" }"
echo
echo "and start the server (or send it SIGHUP); GET /api/v1/$name answers."

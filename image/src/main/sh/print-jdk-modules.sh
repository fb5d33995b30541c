#!/bin/sh
# Prints the JDK modules the image's jars use, for image.registry-free.jdk-modules in image/pom.xml. Run it after a
# dependency change (about a minute; too slow for every build):
#   mvn -q -o -pl image -am package -DskipTests && sh image/src/main/sh/print-jdk-modules.sh
# Each jar is unpacked without its module-info: as named modules on jdeps' class path, jars whose own dependencies
# are modules jdeps cannot resolve (commons-validator, jackson, log4j) stop the analysis.
set -eu
classpath_file=${1:-$(dirname "$0")/../../../target/runtime.classpath}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for jar in $(tr ':' ' ' < "$classpath_file"); do
  dir=$(mktemp -d -p "$work")
  unzip -qo "$jar" -d "$dir" -x 'module-info.class' 'META-INF/versions/*/module-info.class' 2>/dev/null || true
  echo "$dir"
done | xargs jdeps --multi-release 17 --ignore-missing-deps --print-module-deps

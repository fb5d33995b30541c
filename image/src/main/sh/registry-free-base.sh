#!/bin/sh
# Lays out the root file system of the registry-free image's base: what eclipse-temurin:17-jre gives the production
# image, made here from the local JDK because no registry answers in CI. Jib adds it to a `scratch` base as an extra
# directory (image/pom.xml, execution registry-free-image).
#   registry-free-base.sh OUT_DIR JDK_HOME JDK_MODULES RUNTIME_CLASSPATH_FILE
# - a Java runtime jlinked from JDK_HOME with only JDK_MODULES, at /opt/java/openjdk as in eclipse-temurin;
# - /bin/sh, env and sed: what ops/docker/entrypoint.sh runs before it execs java;
# - every shared library these programs, the runtime and the Linux x86_64 JNI libraries inside the jars of
#   RUNTIME_CLASSPATH_FILE (RocksDB, zstd, lz4, snappy: extracted to /tmp at run time) link to, found with ldd;
# - /etc/passwd and /etc/group naming user 10001 "dealbridge" (group 0), and /tmp.
set -eu
out=$1 jdk=$2 modules=$3 classpath_file=$4

# The stand-in for eclipse-temurin:17-jre must be a Java 17 runtime: jlink makes one of its own JDK's version.
version=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$jdk/release")
case "$version" in 17|17.*) ;; *)
  echo "registry-free-base.sh: $jdk is Java ${version:-?}; give a Java 17 JDK, as the production base is, with -Dimage.registry-free.jdk=JDK_HOME" >&2
  exit 1 ;;
esac

rm -rf "$out"
mkdir -p "$out/opt/java" "$out/bin" "$out/usr/bin" "$out/etc" "$out/tmp"
# No compression: Jib gzips the layer anyway, and an uncompressed modules file starts faster.
# (jlink is a short-lived JVM: C1 alone spends about half the CPU)
"$jdk/bin/jlink" -J-XX:TieredStopAtLevel=1 --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --output "$out/opt/java/openjdk"

cp -L "$(command -v dash)" "$out/bin/sh"
cp -L "$(command -v env)" "$out/usr/bin/env"
cp -L "$(command -v sed)" "$out/usr/bin/sed"

natives=$(mktemp -d)
trap 'rm -rf "$natives"' EXIT
for jar in $(tr ':' ' ' < "$classpath_file"); do
  case "$jar" in *.jar) ;; *) continue ;; esac
  # the same selection the libraries make at run time on Linux x86_64 with glibc
  unzip -Z1 "$jar" 2>/dev/null | grep -E '\.so$' | grep -iE 'linux' | grep -iE 'amd64|x86_64|linux64' | grep -v musl \
    | while read -r entry; do unzip -q -o -j "$jar" "$entry" -d "$natives/$(basename "$jar")"; done
done

# ldd prints "name => /path (addr)" for each library and "/lib64/ld-linux-x86-64.so.2 (addr)" for the loader; the
# runtime's own libraries (found through $ORIGIN) are already in place. Paths are kept: the loader searches them.
for f in $(find "$out" "$natives" -type f \( -name '*.so' -o -path '*/bin/*' \)); do
  ldd "$f" 2>/dev/null | sed -n -e 's/^.*=> \(\/[^ ]*\) .*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (.*$/\1/p'
done | grep -v "^$out/" | sort -u | while read -r lib; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done

cat > "$out/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/usr/sbin/nologin
dealbridge:x:10001:0:DealBridge:/var/lib/dealbridge:/usr/sbin/nologin
PASSWD
echo 'root:x:0:' > "$out/etc/group"

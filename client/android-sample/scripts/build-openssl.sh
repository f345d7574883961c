#!/bin/sh
# build-openssl.sh OPENSSL_SRC PREFIX [API]: build static libssl.a/libcrypto.a of an OpenSSL 3.x
# source tree for each ABI the sample ships, into PREFIX/<abi>/{include,lib}, with the NDK
# named by ANDROID_NDK_ROOT (OpenSSL's own Android targets, see its NOTES-ANDROID.md).
# API defaults to 28, the sample's minSdk. Needs perl and make. Not run by xpush's CI.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OPENSSL_SRC PREFIX [API]" >&2; exit 2; }
src=$(cd "$1" && pwd)
mkdir -p "$2"
prefix=$(cd "$2" && pwd)
api=${3:-28}
: "${ANDROID_NDK_ROOT:?set ANDROID_NDK_ROOT to the NDK (e.g. ~/Android/Sdk/ndk/26.1.10909125)}"
host=$(uname -s | tr 'A-Z' 'a-z')-x86_64
PATH=$ANDROID_NDK_ROOT/toolchains/llvm/prebuilt/$host/bin:$PATH
export ANDROID_NDK_ROOT PATH

for pair in arm64-v8a:android-arm64 x86_64:android-x86_64; do
	abi=${pair%%:*}
	target=${pair#*:}
	echo "== OpenSSL for $abi ($target, API $api)"
	build=$(mktemp -d)
	(
		cd "$build"
		# no-shared: linked into libxpush-jni.so; no-engine/no-tests: nothing we use
		"$src/Configure" "$target" -D__ANDROID_API__="$api" no-shared no-tests no-engine \
			--prefix="$prefix/$abi" --libdir=lib --openssldir=/nonexistent
		make -j"$(getconf _NPROCESSORS_ONLN)" build_libs
		make install_dev
	)
	rm -rf "$build"
done
echo "done: set xpush.opensslPrefix=$prefix in gradle.properties"

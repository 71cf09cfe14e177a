# Sourced by every script: points JAVA_HOME at a JDK 25, or says what to install.
# Looks at $JAVA_HOME first, then /usr/lib/jvm/*25*.

jdk_feature_version() {
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
        awk -F' = ' '/java.specification.version/ { split($2, v, "."); print v[1] }'
}

require_jdk25() {
    local candidate version
    for candidate in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*25*; do
        [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
        version=$(jdk_feature_version "$candidate")
        if [ -n "$version" ] && [ "$version" -ge 25 ]; then
            export JAVA_HOME=$candidate
            export PATH="$JAVA_HOME/bin:$PATH"
            return 0
        fi
    done
    cat >&2 <<MSG
error: this project needs a JDK 25, and none was found.
  looked at: JAVA_HOME=${JAVA_HOME:-<unset>} and /usr/lib/jvm/*25*
  install Temurin 25 (our machines have it at /usr/lib/jvm/temurin-25-jdk-amd64;
  elsewhere: https://adoptium.net/temurin/releases/?version=25), or set JAVA_HOME to a JDK 25.
MSG
    return 1
}

# Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 25 warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
# Debian's Maven 3.8 (Jansi 2) writes two "reset attributes" codes (ESC[0m) as it starts and two as
# it ends, even in batch mode with its output in a pipe; -B turns its colours off, this the resets.
MAVEN_OPTS="$MAVEN_OPTS -Djansi.noreset=true"

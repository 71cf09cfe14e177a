# Sourced by the scripts that run our jars: builds them with Maven when they are missing or older
# than anything they are built from.

# jar_is_stale ROOT JAR MODULE...: true when JAR is missing or older than the root pom, or a pom
# or a main source of one of the MODULEs it is built from.
jar_is_stale() {
    local root=$1 jar=$2 module
    shift 2
    [ -f "$jar" ] || return 0
    local sources=("$root/pom.xml")
    for module in "$@"; do sources+=("$root/$module/pom.xml" "$root/$module/src/main"); done
    [ -n "$(find "${sources[@]}" -newer "$jar" -type f -print -quit 2>/dev/null)" ]
}

# build_modules ROOT MODULE...: packages the MODULEs and what they need, without tests.
build_modules() {
    local root=$1 projects
    shift
    projects=$(IFS=,; echo "$*")
    echo "Building $projects with Maven (about a minute the first time) ..." >&2
    (cd "$root" && mvn -B -q -pl "$projects" -am package -DskipTests) >&2
}

#!/usr/bin/env python3
"""Checks that the tree's layers depend on each other only as docs/ARCHITECTURE.md says.

Reads the real #include lines of every C, C++ and Go source under src/, examples/ and bindings/,
and the target_link_libraries() of src/*/CMakeLists.txt, and fails (exit status 1, one line per
violation) when:
- the locks (src/sync) or the table library (src/table) include or link anything else of ours;
- the JSON Web Token library (src/jose) includes or links anything of ours but the table library;
- the Arrow codec (src/arrow) includes or links anything of ours but the table library and the
  public header of the Arrow C Data structs (zerobus/arrow_c_data.h), never zerobus.h;
- the engine (src/core) includes or links the shim, the server, the command or zerobus.h;
  (every layer may use the locks; the engine, the shim, the server and the command the table
  library and the Arrow codec; the engine, the server and the command the JSON Web Token
  library)
- the server (src/server) includes or links the engine, the shim or the command;
- anything but the shim includes an engine header or links the engine;
- the command (src/cli) includes anything of the project's but the public headers, the table
  library, the JSON Web Token library, the server library's public interface (ZB_SERVER_PUBLIC_HEADERS in
  src/server/CMakeLists.txt) and its own headers;
- an example includes any header of the project's but the public ones, or a binding any but
  zerobus/zerobus.h (a binding's own headers, in its own folder, are its business).
Tests and benchmarks are white-box on purpose and are not checked.

Usage: scripts/check_layers.py [ROOT]   (ROOT defaults to the repository holding this script)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)
SOURCE_SUFFIXES = ('.c', '.cc', '.cpp', '.h', '.hpp', '.go')
# The folders of src/, each a layer, and the CMake targets each builds.
LAYER_TARGETS = {
    'sync': {'zerobus_sync'},
    'net': {'zerobus_net'},
    'table': {'zerobus_table'},
    'jose': {'zerobus_jose'},
    'arrow': {'zerobus_arrow'},
    'core': {'zerobus_core'},
    'c_api': {'zerobus_c_api', 'zerobus', 'zerobus_static'},
    'server': {'zerobus_server'},
    'cli': {'zerobus_cli', 'zerobus_cli_readers'},
}
# What each layer may include and link, besides its own folder and the system's headers.
MAY_INCLUDE = {
    'sync': set(),
    'net': {'sync'},
    'table': set(),
    'jose': {'table'},
    'arrow': {'table', 'arrow-c-data'},
    'core': {'table', 'jose', 'arrow', 'sync', 'net'},
    'c_api': {'core', 'table', 'arrow', 'public', 'arrow-c-data', 'sync'},
    'server': {'table', 'jose', 'arrow', 'sync'},
    'cli': {'table', 'jose', 'arrow', 'public', 'arrow-c-data', 'server-public'},
}
# The C Data structs are an ABI of Arrow's, not of libzerobus: the codec may declare them from
# the public header that holds them and from no other.
ARROW_C_DATA_HEADER = 'zerobus/arrow_c_data.h'
# A layer's own target is not a dependency; the shim's three targets are built from one
# another.
MAY_LINK = {
    'sync': set(),
    'net': {'sync'},
    'table': set(),
    'jose': {'table'},
    'arrow': {'table'},
    'core': {'table', 'jose', 'arrow', 'sync', 'net'},
    'c_api': {'core', 'table', 'jose', 'arrow', 'c_api', 'sync'},
    'server': {'table', 'jose', 'arrow', 'sync'},
    'cli': {'table', 'jose', 'arrow', 'c_api', 'server'},
}


def sources(folder):
    for parent, _, names in os.walk(folder):
        if 'node_modules' in parent.split(os.sep) or os.sep + 'build' in parent:
            continue
        for name in sorted(names):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.join(parent, name)


def includes(path):
    with open(path, encoding='utf-8', errors='replace') as source:
        text = source.read()
    if path.endswith('.go'):
        # cgo's preamble is a comment above `import "C"`, in // lines or a /* */ block.
        text = re.sub(r'^\s*//', '', text, flags=re.MULTILINE)
    return INCLUDE.findall(text)


def server_public_headers(root):
    cmake = open(os.path.join(root, 'src/server/CMakeLists.txt'), encoding='utf-8').read()
    listed = re.search(r'set\(\s*ZB_SERVER_PUBLIC_HEADERS\s+([^)]*)\)', cmake)
    if not listed:
        return None
    return {'server/' + name for name in listed.group(1).split()}


def layer_of_include(name, server_public):
    """The layer a project header belongs to, or None for a header not of the project's."""
    if name == ARROW_C_DATA_HEADER:
        return 'arrow-c-data'
    if name.startswith('zerobus/'):
        return 'public'
    top = name.split('/', 1)[0]
    if top == 'server':
        return 'server-public' if server_public and name in server_public else 'server'
    if top in LAYER_TARGETS:
        return top
    return None


def check_includes(root, violations):
    server_public = server_public_headers(root)
    if server_public is None:
        violations.append('src/server/CMakeLists.txt: no set(ZB_SERVER_PUBLIC_HEADERS ...) naming '
                          "the server library's public interface")
        server_public = set()
    for layer in LAYER_TARGETS:
        for path in sources(os.path.join(root, 'src', layer)):
            for name in includes(path):
                used = layer_of_include(name, server_public)
                if used is None or used == layer or used in MAY_INCLUDE[layer]:
                    continue
                if used == 'server-public' and layer == 'server':
                    continue
                if used == 'server-public' and 'server' in MAY_INCLUDE[layer]:
                    continue
                violations.append('%s: includes "%s" (%s may not use %s)' %
                                  (os.path.relpath(path, root), name, layer, used))
    # Examples show the public API, the C++ wrapper included; bindings wrap the C ABI only.
    for folder, allowed in (('examples', ('zerobus/zerobus.h', 'zerobus/zerobus.hpp',
                                          ARROW_C_DATA_HEADER)),
                            ('bindings', ('zerobus/zerobus.h', ARROW_C_DATA_HEADER))):
        for path in sources(os.path.join(root, folder)):
            for name in includes(path):
                reaches_out = '..' in name.split('/') or name.startswith(('src/', 'include/'))
                if name in allowed or (layer_of_include(name, server_public) is None and
                                       not reaches_out):
                    continue  # the system's, or a header of the example's or binding's own
                violations.append('%s: includes "%s" (only %s)' %
                                  (os.path.relpath(path, root), name, ' and '.join(allowed)))


def check_links(root, violations):
    target_layer = {target: layer for layer, targets in LAYER_TARGETS.items()
                    for target in targets}
    link = re.compile(r'target_link_libraries\(\s*(\S+)([^)]*)\)', re.DOTALL)
    for layer in LAYER_TARGETS:
        cmake_path = os.path.join(root, 'src', layer, 'CMakeLists.txt')
        if not os.path.exists(cmake_path):
            continue
        text = open(cmake_path, encoding='utf-8').read()
        text = re.sub(r'#[^\n]*', '', text)
        for target, arguments in link.findall(text):
            if target_layer.get(target) != layer:
                continue
            for dependency in arguments.split():
                used = target_layer.get(dependency)
                if used is None or used == layer or used in MAY_LINK[layer]:
                    continue
                violations.append('src/%s/CMakeLists.txt: %s links %s (%s may not use %s)' %
                                  (layer, target, dependency, layer, used))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    violations = []
    check_includes(root, violations)
    check_links(root, violations)
    for violation in violations:
        print(violation)
    if violations:
        print('%d layering violation(s); docs/ARCHITECTURE.md says which layer may use which' %
              len(violations))
        return 1
    print('layers: every include and link goes the way docs/ARCHITECTURE.md says')
    return 0


if __name__ == '__main__':
    sys.exit(main())

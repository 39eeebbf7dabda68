{
  "variables": {
    "zerobus_werror%": "<!(node -p \"process.env.ZEROBUS_NODE_WERROR === '1' ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "zerobus",
      "sources": [
        "src/addon.cc",
        "src/addon_data.cc",
        "src/config.cc",
        "src/errors.cc",
        "src/notifier.cc",
        "src/reaper.cc",
        "src/schema.cc",
        "src/sdk.cc",
        "src/stream.cc",
        "src/subject_tokens.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "ZB_EXPERIMENTAL_PERSISTENT",
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["<!@(pkg-config --cflags zerobus)", "-Wall", "-Wextra"],
      "conditions": [["zerobus_werror==1", { "cflags_cc": ["-Werror"] }]],
      "libraries": [
        "<!@(pkg-config --libs zerobus)",
        "-Wl,-rpath,<!(pkg-config --variable=libdir zerobus)"
      ]
    }
  ]
}

{
  "targets": [
    {
      "target_name": "shmlink",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/region.cc",
        "src/wait_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/platform_linux.cc"],
          "libraries": ["-lrt", "-lpthread"]
        }],
        ["OS!='linux' and OS!='win'", {
          "sources": ["src/platform_unsupported.cc"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }],
        ["OS=='win'", {
          "sources": [
            "src/platform_win32.cc",
            "src/win32_file_regions.cc",
            "src/win32_list.cc",
            "src/win32_objects.cc",
            "src/win32_shared_regions.cc",
            "src/win32_util.cc",
            "src/win32_wait.cc"
          ],
          "defines": ["WIN32_LEAN_AND_MEAN", "NOMINMAX", "UNICODE", "_UNICODE"],
          "libraries": ["advapi32.lib"],
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] } }
        }]
      ]
    }
  ]
}

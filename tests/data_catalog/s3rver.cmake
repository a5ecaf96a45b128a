# s3rver (an S3-compatible server, from the npm registry at the version
# pinned in s3rver/package-lock.json) for the S3 fetch tests. Installed into
# the build tree with `npm ci`; without npm the S3 tests skip, saying so.
find_program(KILN_TEST_NPM npm)
find_program(KILN_TEST_NODE node)
if(KILN_TEST_NPM AND KILN_TEST_NODE)
  set(KILN_S3RVER_DIR "${CMAKE_BINARY_DIR}/s3rver-node")
  add_custom_command(
    OUTPUT "${KILN_S3RVER_DIR}/npm-ci.stamp"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${KILN_S3RVER_DIR}"
    COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${CMAKE_CURRENT_SOURCE_DIR}/data_catalog/s3rver/package.json"
            "${CMAKE_CURRENT_SOURCE_DIR}/data_catalog/s3rver/package-lock.json" "${KILN_S3RVER_DIR}"
    COMMAND "${KILN_TEST_NPM}" ci --prefix "${KILN_S3RVER_DIR}" --ignore-scripts --no-audit --no-fund --loglevel=error
    COMMAND "${CMAKE_COMMAND}" -E touch "${KILN_S3RVER_DIR}/npm-ci.stamp"
    DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/data_catalog/s3rver/package.json"
            "${CMAKE_CURRENT_SOURCE_DIR}/data_catalog/s3rver/package-lock.json"
    COMMENT "Installing s3rver for the S3 tests (tests/data_catalog/s3rver/package-lock.json)"
    VERBATIM)
  add_custom_target(kiln_test_s3rver DEPENDS "${KILN_S3RVER_DIR}/npm-ci.stamp")
  foreach(target kiln_data_catalog_tests kiln_cli_tests)  # S3 fetches; run.upload_to
    if(TARGET ${target})
      add_dependencies(${target} kiln_test_s3rver)
      target_compile_definitions(
        ${target} PRIVATE KILN_NODE="${KILN_TEST_NODE}"
                          KILN_S3RVER_JS="${KILN_S3RVER_DIR}/node_modules/s3rver/bin/s3rver.js")
    endif()
  endforeach()
endif()

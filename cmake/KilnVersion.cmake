# Generates version_info.cpp with the SemVer version and the git commit the
# binary was built from. It is rewritten on every build but only touched when
# the commit changes, so it never forces a relink by itself.
set(KILN_VERSION_CPP "${CMAKE_BINARY_DIR}/generated/version_info.cpp")
add_custom_target(kiln_version_info
  COMMAND ${CMAKE_COMMAND}
          -DKILN_VERSION=${PROJECT_VERSION}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${KILN_VERSION_CPP}
          -P ${CMAKE_SOURCE_DIR}/cmake/write_version_info.cmake
  BYPRODUCTS ${KILN_VERSION_CPP}
  COMMENT "Recording git commit in version_info.cpp"
  VERBATIM)

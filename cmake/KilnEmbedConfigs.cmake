# Embeds every file under configs/ into the kiln binary, so the shipped
# configs are found from any working directory without an install step.
file(GLOB_RECURSE KILN_SHIPPED_CONFIGS CONFIGURE_DEPENDS
     RELATIVE "${PROJECT_SOURCE_DIR}/configs" "${PROJECT_SOURCE_DIR}/configs/*.yaml" "${PROJECT_SOURCE_DIR}/configs/.env")
set(KILN_EMBEDDED_CPP "${PROJECT_BINARY_DIR}/generated/embedded_configs.cpp")
set(_deps "")
foreach(f IN LISTS KILN_SHIPPED_CONFIGS)
  list(APPEND _deps "${PROJECT_SOURCE_DIR}/configs/${f}")
endforeach()
add_custom_command(
  OUTPUT "${KILN_EMBEDDED_CPP}"
  COMMAND ${CMAKE_COMMAND}
          -DCONFIG_DIR=${PROJECT_SOURCE_DIR}/configs
          "-DFILES=${KILN_SHIPPED_CONFIGS}"
          -DOUTPUT=${KILN_EMBEDDED_CPP}
          -P ${PROJECT_SOURCE_DIR}/cmake/write_embedded_configs.cmake
  DEPENDS ${_deps} ${PROJECT_SOURCE_DIR}/cmake/write_embedded_configs.cmake
  COMMENT "Embedding configs/ into the kiln binary"
  VERBATIM)

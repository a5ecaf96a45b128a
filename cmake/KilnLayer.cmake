# kiln_add_torch_layer(NAME DIR DEPS...): a static library of DIR/*.cpp that
# uses LibTorch (with the shared precompiled header); nothing when DIR has
# no sources yet.
function(kiln_add_torch_layer name dir)
  file(GLOB sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${dir}/*.cpp")
  if(NOT sources)
    return()
  endif()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/include")
  target_link_libraries(${name} PUBLIC ${ARGN})
  kiln_use_torch(${name})
endfunction()

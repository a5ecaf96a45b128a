# LibTorch for the layers that need it (models, data, train).
#
# CPU machines build against Debian's libtorch-dev (1.13); GPU machines
# against the torch 2.x of their Python environment
# (-DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')).
# Version differences live in include/kiln/torch_compat.h, and c10d's in
# include/kiln/dist/c10d_compat.h.
#
# Compile time: every torch translation unit would parse torch/torch.h
# (~15 s on this machine). kiln_torch_pch precompiles it once and every
# torch target reuses that header (kiln_use_torch).
find_package(Torch REQUIRED)

add_library(kiln_torch_pch STATIC "${PROJECT_SOURCE_DIR}/src/torch_support/torch_pch.cpp")
target_link_libraries(kiln_torch_pch PUBLIC torch)
target_include_directories(kiln_torch_pch PUBLIC "${PROJECT_SOURCE_DIR}/include")
target_precompile_headers(kiln_torch_pch PUBLIC <torch/torch.h>)
set_target_properties(kiln_torch_pch PROPERTIES POSITION_INDEPENDENT_CODE ON)

# Links `target` against torch and reuses the precompiled torch header.
function(kiln_use_torch target)
  target_link_libraries(${target} PUBLIC torch)
  target_precompile_headers(${target} REUSE_FROM kiln_torch_pch)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

include("${PROJECT_SOURCE_DIR}/cmake/KilnLayer.cmake")

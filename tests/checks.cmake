# Checks of the project itself rather than of the library's behaviour (label `checks`):
#   layering                     the library's folders include each other only downwards
#                                (scripts/check-layering.sh on this tree)
#   layering_detects_violations  the layering check fails on fixture trees that break the rule
#   scripts_refuse_bad_input     setup.sh, fresh-debian.sh and gpu-check.sh answer bad input and
#                                unsupported systems with one line and a non-zero exit
#   install_find_package         install, then build and run docs/examples/custom_model against the
#                                installed package with find_package(modnet) (label `slow`)
# Run them with `ctest -L checks`; the install test needs the `modnet` target built first.
find_program(MODNET_BASH bash)
if(NOT MODNET_BASH)
  message(WARNING "bash not found: the `checks` tests (layering, install_find_package) are not added")
  return()
endif()

add_test(NAME layering
         COMMAND ${MODNET_BASH} ${PROJECT_SOURCE_DIR}/scripts/check-layering.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(layering PROPERTIES LABELS "checks" TIMEOUT 60)

add_test(NAME layering_detects_violations
         COMMAND ${MODNET_BASH} ${CMAKE_CURRENT_LIST_DIR}/layering_selftest.sh
                 ${PROJECT_SOURCE_DIR}/scripts/check-layering.sh)
set_tests_properties(layering_detects_violations PROPERTIES LABELS "checks" TIMEOUT 60)

add_test(NAME scripts_refuse_bad_input
         COMMAND ${MODNET_BASH} ${CMAKE_CURRENT_LIST_DIR}/scripts_selftest.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(scripts_refuse_bad_input PROPERTIES LABELS "checks" TIMEOUT 60)

# The example is configured like this build: generator, compiler, build type, compiler launcher
# (ccache) and the same dependency packages.
get_property(_modnet_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
if(_modnet_multi_config)
  set(_modnet_config "$<CONFIG>")
else()
  set(_modnet_config "${CMAKE_BUILD_TYPE}")
endif()
set(_modnet_install_args
  --cmake ${CMAKE_COMMAND}
  --build-dir ${PROJECT_BINARY_DIR}
  --source-dir ${PROJECT_SOURCE_DIR}
  --generator ${CMAKE_GENERATOR}
  --cxx-compiler ${CMAKE_CXX_COMPILER}
  --library $<TARGET_FILE:modnet>)
if(_modnet_config)
  list(APPEND _modnet_install_args --build-type ${_modnet_config})
endif()
if(CMAKE_MAKE_PROGRAM)
  list(APPEND _modnet_install_args --make-program ${CMAKE_MAKE_PROGRAM})
endif()
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(JOIN CMAKE_CXX_COMPILER_LAUNCHER "$<SEMICOLON>" _modnet_launcher)
  list(APPEND _modnet_install_args --launcher "${_modnet_launcher}")
endif()
foreach(_modnet_path IN LISTS CMAKE_PREFIX_PATH)
  list(APPEND _modnet_install_args --prefix-path ${_modnet_path})
endforeach()
foreach(_modnet_var Torch_DIR Caffe2_DIR yaml-cpp_DIR fmt_DIR OpenCV_DIR
                    ZLIB_ROOT ZLIB_INCLUDE_DIR ZLIB_LIBRARY_RELEASE CMAKE_CUDA_COMPILER CUDAToolkit_ROOT)
  if(${_modnet_var} AND NOT "${${_modnet_var}}" MATCHES "(NOTFOUND$|;)")
    list(APPEND _modnet_install_args --define "${_modnet_var}=${${_modnet_var}}")
  endif()
endforeach()

add_test(NAME install_find_package
         COMMAND ${MODNET_BASH} ${CMAKE_CURRENT_LIST_DIR}/install_test.sh ${_modnet_install_args})
# RUN_SERIAL: it compiles a program of its own, which would starve tests run beside it.
set_tests_properties(install_find_package PROPERTIES LABELS "checks;slow" TIMEOUT 900 RUN_SERIAL TRUE)

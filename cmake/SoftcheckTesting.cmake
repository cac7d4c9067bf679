# One way to add a test: softcheck_add_test(NAME SOURCES ... [LIBS ...] [LABELS ...])
# builds a Catch2 executable (main lives in its own translation unit,
# softcheck_catch_main) and registers it with ctest.
function(softcheck_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE softcheck_catch_main ${ARG_LIBS})
  add_test(NAME ${name} COMMAND ${name} --reporter console)
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600)
  if(ARG_ENVIRONMENT)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
endfunction()

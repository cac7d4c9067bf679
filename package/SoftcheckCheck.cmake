# Gate a kernel library on softcheck from its own ctest.
#
#   find_package(softcheck 0.2 CONFIG REQUIRED)
#   softcheck_add_plugin(my_kernels kernels.c)
#   softcheck_add_check(NAME my_kernels TARGET my_kernels SETS mine)
#
# softcheck_add_plugin(<target> <source>...)
#   A MODULE library softcheck can load: softcheck::plugin's headers, every
#   symbol hidden but the entry point SOFTCHECK_EXPORT marks, named
#   lib<target>.so, and (Linux, unless the flags ask for a sanitizer, whose
#   runtime a module leaves unresolved) linked with --no-undefined, so a
#   missing library (libm, say) fails the link rather than the load.
#
# softcheck_add_check(NAME <name> TARGET <plugin target>
#                     [SETS <set>...] [OPS <op>...] [DTYPES <dtype>...]
#                     [PROPERTIES <property>...] [PER SET|OP]
#                     [CASES <n>] [SEED <s>] [BASELINE <file>]
#                     [LABELS <label>...] [TIMEOUT <seconds>] [ARGS <arg>...])
#   Registers ctest tests that run `softcheck check` on the plugin, each
#   failing on any failed property, kernel fault or load error:
#     PER SET (the default): one test per set, <name>.<set>; without SETS,
#       one test <name> for every set the plugin has.
#     PER OP: one test per set and op, <name>.<set>.<op> (<name>.<op>
#       without SETS), over OPS or, without OPS, every op.
#   Each test writes JUnit and the JSON result (docs: check-json.md) to
#   <build folder>/softcheck-results/<test>.xml and <test>.json, and keeps
#   the inputs of any kernel fault in <test>-faults/.
#   CASES (default 100) and SEED (default 1) are check's --cases and --seed:
#   the same seed gives the same cases on every machine.
#   BASELINE <file> (relative to the current source folder; needs SETS):
#   one more test, <name>.baseline, runs `softcheck report --baseline` and
#   fails when a metric of the report got worse than the file's; the target
#   <name>_baseline (re)writes the file:
#     cmake --build <build folder> --target <name>_baseline
#   TIMEOUT (default 1500 s) is the test's; softcheck stops itself 10 s
#   before it, so a hang still ends in a verdict. LABELS are added to the
#   label "softcheck". ARGS go to `softcheck check` as they are.
include_guard(GLOBAL)

set(_softcheck_module_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_softcheck_ops softmax log_softmax logsumexp softmax_backward log_softmax_backward nll_loss
    nll_loss_backward cross_entropy cross_entropy_backward cross_entropy_prob
    cross_entropy_prob_backward)

function(softcheck_add_plugin target)
  if(NOT ARGN)
    message(FATAL_ERROR "softcheck_add_plugin(${target}): give the plugin's sources")
  endif()
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE softcheck::plugin)
  set_target_properties(${target} PROPERTIES PREFIX "lib" C_VISIBILITY_PRESET hidden
                        CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
                        POSITION_INDEPENDENT_CODE ON)
  set(flags "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS} ${CMAKE_MODULE_LINKER_FLAGS}")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT flags MATCHES "-fsanitize")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()

function(softcheck_add_check)
  cmake_parse_arguments(PARSE_ARGV 0 A ""
    "NAME;TARGET;PER;CASES;SEED;BASELINE;TIMEOUT" "SETS;OPS;DTYPES;PROPERTIES;LABELS;ARGS")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "softcheck_add_check: unknown arguments ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_NAME OR NOT A_TARGET)
    message(FATAL_ERROR "softcheck_add_check: give NAME and TARGET (the plugin's target)")
  endif()
  if(NOT TARGET ${A_TARGET})
    message(FATAL_ERROR "softcheck_add_check(${A_NAME}): no target ${A_TARGET}")
  endif()
  if(NOT A_PER)
    set(A_PER SET)
  endif()
  string(TOUPPER "${A_PER}" A_PER)
  if(NOT A_PER MATCHES "^(SET|OP)$")
    message(FATAL_ERROR "softcheck_add_check(${A_NAME}): PER takes SET or OP, not ${A_PER}")
  endif()
  foreach(op IN LISTS A_OPS)
    if(NOT op IN_LIST _softcheck_ops)
      message(FATAL_ERROR "softcheck_add_check(${A_NAME}): unknown op ${op} "
                          "(ops: ${_softcheck_ops})")
    endif()
  endforeach()
  foreach(dt IN LISTS A_DTYPES)
    if(NOT dt MATCHES "^(f32|f64|bf16|f16)$")
      message(FATAL_ERROR "softcheck_add_check(${A_NAME}): DTYPES take f32, f64, bf16, f16")
    endif()
  endforeach()
  foreach(v CASES SEED TIMEOUT)
    if(DEFINED A_${v} AND NOT A_${v} MATCHES "^[0-9]+$")
      message(FATAL_ERROR "softcheck_add_check(${A_NAME}): ${v} takes a whole number")
    endif()
  endforeach()
  if(NOT A_CASES)
    set(A_CASES 100)
  endif()
  if(NOT DEFINED A_SEED)
    set(A_SEED 1)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 1500)
  endif()

  set(results "${CMAKE_CURRENT_BINARY_DIR}/softcheck-results")
  file(MAKE_DIRECTORY "${results}")
  set(plugin "$<TARGET_FILE:${A_TARGET}>")
  set(common --cases ${A_CASES} --seed ${A_SEED})
  if(A_DTYPES)
    list(JOIN A_DTYPES "," dtypes)
    list(APPEND common --dtype ${dtypes})
  endif()
  if(A_PROPERTIES)
    list(APPEND common --property ${A_PROPERTIES})
  endif()
  if(A_TIMEOUT GREATER 20)
    math(EXPR stop "${A_TIMEOUT} - 10")
    list(APPEND common --timeout ${stop})
  endif()

  set(sets "${A_SETS}")
  if(NOT sets)
    set(sets "-") # every set of the plugin, in one test per op or in one test
  endif()
  set(ops "-")
  if(A_PER STREQUAL "OP")
    set(ops ${A_OPS})
    if(NOT ops)
      set(ops ${_softcheck_ops})
    endif()
  endif()
  foreach(set IN LISTS sets)
    foreach(op IN LISTS ops)
      set(test "${A_NAME}")
      set(args check --plugin "${plugin}")
      if(NOT set STREQUAL "-")
        string(APPEND test ".${set}")
        list(APPEND args --set ${set})
      endif()
      if(NOT op STREQUAL "-")
        string(APPEND test ".${op}")
        list(APPEND args --op ${op})
      elseif(A_OPS)
        list(APPEND args --op ${A_OPS})
      endif()
      list(APPEND args ${common} --junit "${results}/${test}.xml" --json "${results}/${test}.json"
           --faults "${results}/${test}-faults" ${A_ARGS})
      add_test(NAME "${test}" COMMAND softcheck::softcheck ${args}
               WORKING_DIRECTORY "${results}")
      set_tests_properties("${test}" PROPERTIES TIMEOUT ${A_TIMEOUT}
                           LABELS "softcheck;${A_LABELS}")
    endforeach()
  endforeach()

  if(A_BASELINE)
    if(NOT A_SETS)
      message(FATAL_ERROR "softcheck_add_check(${A_NAME}): BASELINE needs SETS (the sets the "
                          "report covers)")
    endif()
    get_filename_component(baseline "${A_BASELINE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(JOIN A_SETS "," sets_arg)
    list(JOIN A_OPS "," ops_arg)
    set(script -DSOFTCHECK=$<TARGET_FILE:softcheck::softcheck> -DPLUGIN=${plugin}
        -DSETS=${sets_arg} -DOPS=${ops_arg} -DDTYPES=${dtypes} -DCASES=${A_CASES}
        -DSEED=${A_SEED} -DBASELINE=${baseline} -DOUT=${results}/${A_NAME}-report
        -DTARGET_NAME=${A_NAME}_baseline)
    add_test(NAME "${A_NAME}.baseline"
             COMMAND ${CMAKE_COMMAND} ${script} -DMODE=check
                     -P "${_softcheck_module_dir}/SoftcheckBaseline.cmake"
             WORKING_DIRECTORY "${results}")
    set_tests_properties("${A_NAME}.baseline" PROPERTIES TIMEOUT ${A_TIMEOUT}
                         LABELS "softcheck;${A_LABELS}")
    add_custom_target(${A_NAME}_baseline
      COMMAND ${CMAKE_COMMAND} ${script} -DMODE=write
              -P "${_softcheck_module_dir}/SoftcheckBaseline.cmake"
      DEPENDS ${A_TARGET} WORKING_DIRECTORY "${results}" USES_TERMINAL
      COMMENT "softcheck: writing the baseline ${baseline}")
  endif()
endfunction()

# cmake -DMODE=check|write -DSOFTCHECK=... -DPLUGIN=... -DSETS=a,b [-DOPS=...]
#       [-DDTYPES=...] -DCASES=N -DSEED=S -DBASELINE=FILE -DOUT=DIR -P SoftcheckBaseline.cmake
# check: `softcheck report --baseline FILE`, failing when a metric got worse.
# write: the same report, its report.json copied to FILE.
foreach(v MODE SOFTCHECK PLUGIN SETS CASES SEED BASELINE OUT TARGET_NAME)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "SoftcheckBaseline.cmake: -D${v}= is missing")
  endif()
endforeach()
set(args report --plugin "${PLUGIN}" --cases "${CASES}" --seed "${SEED}" --worst 0)
string(REPLACE "," ";" sets "${SETS}")
foreach(s IN LISTS sets)
  list(APPEND args --set "${s}")
endforeach()
if(OPS)
  string(REPLACE "," ";" ops "${OPS}")
  list(APPEND args --op ${ops})
endif()
if(DTYPES)
  list(APPEND args --dtype "${DTYPES}")
endif()

if(MODE STREQUAL "check")
  if(NOT EXISTS "${BASELINE}")
    message(FATAL_ERROR "no baseline at ${BASELINE}: write it with\n"
                        "  cmake --build <build folder> --target ${TARGET_NAME}\n"
                        "and commit it")
  endif()
  execute_process(COMMAND "${SOFTCHECK}" ${args} --baseline "${BASELINE}" --out "${OUT}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "softcheck report --baseline: exit ${rc} (1: a metric is worse than "
                        "${BASELINE}; the diff is above and in ${OUT}/report.md)")
  endif()
elseif(MODE STREQUAL "write")
  execute_process(COMMAND "${SOFTCHECK}" ${args} --out "${OUT}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "softcheck report: exit ${rc}; the baseline is unchanged")
  endif()
  get_filename_component(dir "${BASELINE}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  # Whole file or nothing: copy beside it, then rename over it.
  file(COPY_FILE "${OUT}/report.json" "${BASELINE}.tmp")
  file(RENAME "${BASELINE}.tmp" "${BASELINE}")
  message(STATUS "softcheck: wrote ${BASELINE}")
else()
  message(FATAL_ERROR "SoftcheckBaseline.cmake: MODE is check or write, not ${MODE}")
endif()

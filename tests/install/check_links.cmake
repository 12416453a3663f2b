# SPDX-License-Identifier: MIT
# kmt_check_markdown_links(<markdown files> <problems var>)
# Every relative link of each Markdown file -- [text](target), target without
# a scheme (http:, mailto: ...) and not a bare #anchor -- must name a file or
# folder that exists relative to the file (the #fragment and any "title"
# dropped). Used on the source docs (install.docs_links) and on the installed
# ones (install_test.cmake): a link that works in the source tree but not in
# share/doc/vk-offer-reclaim is a broken link for whoever reads the installed
# copy. Appends one line per broken link to <problems var>.
#
# As a script: cmake -DFILES="a.md;b.md" -P check_links.cmake
cmake_minimum_required(VERSION 3.25)
function(kmt_check_markdown_links files problems_var)
  set(broken "")
  foreach(md IN LISTS files)
    get_filename_component(md "${md}" ABSOLUTE)
    file(READ "${md}" text)
    get_filename_component(dir "${md}" DIRECTORY)
    # Code spans and fenced blocks hold no links (and may hold "](" text).
    string(REGEX REPLACE "```[^`]*```" "" text "${text}")
    string(REGEX REPLACE "`[^`\n]*`" "" text "${text}")
    # CMake lists split at ";" but not inside [...]: neutralize all three.
    string(REPLACE ";" "," text "${text}")
    string(REPLACE "[" "{" text "${text}")
    string(REPLACE "]" "}" text "${text}")
    string(REGEX MATCHALL "}\\([^)\n]+\\)" links "${text}")
    foreach(link IN LISTS links)
      string(REGEX REPLACE "^}\\(([^)]+)\\)$" "\\1" target "${link}")
      string(REGEX REPLACE "[ \t]+\"[^\"]*\"$" "" target "${target}") # [x](file "title")
      if(target MATCHES "^[A-Za-z][A-Za-z0-9+.-]*:" OR target MATCHES "^#")
        continue()
      endif()
      string(REGEX REPLACE "#.*$" "" path "${target}")
      if(NOT EXISTS "${dir}/${path}")
        list(APPEND broken "${md}: link to '${target}', but ${dir}/${path} does not exist")
      endif()
    endforeach()
  endforeach()
  set(${problems_var} ${${problems_var}} ${broken} PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  set(problems "")
  kmt_check_markdown_links("${FILES}" problems)
  if(problems)
    list(JOIN problems "\n  " text)
    message(FATAL_ERROR "broken links:\n  ${text}")
  endif()
  list(LENGTH FILES n)
  message(STATUS "every relative link of ${n} Markdown files resolves")
endif()

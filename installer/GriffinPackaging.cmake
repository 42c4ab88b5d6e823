# SPDX-License-Identifier: Apache-2.0
# Desktop integration, documentation and licences for `cmake --install`, and the CPack packages
# (DEB and TGZ). Included last by the top-level CMakeLists.txt; see installer/README.md.
set(_griffin_installer "${PROJECT_SOURCE_DIR}/installer")
set(GRIFFIN_APP_ID "org.example.griffinchat")  # AppStream id; permanent once published
set(GRIFFIN_MAINTAINER
    "Griffin Chat maintainers <maintainers@users.noreply.r-seed-a9254df7.example>")

# The changelog and the metainfo's newest release must name the project version.
file(STRINGS "${_griffin_installer}/changelog" _griffin_line LIMIT_COUNT 1)
if(NOT _griffin_line MATCHES "^griffin-chat \\(${PROJECT_VERSION}\\) ")
    message(FATAL_ERROR "installer/changelog starts with '${_griffin_line}': add an entry for "
                        "version ${PROJECT_VERSION}")
endif()
file(STRINGS "${_griffin_installer}/${GRIFFIN_APP_ID}.metainfo.xml" _griffin_line
     REGEX "<release " LIMIT_COUNT 1)
if(NOT _griffin_line MATCHES "version=\"${PROJECT_VERSION}\"")
    message(FATAL_ERROR "installer/${GRIFFIN_APP_ID}.metainfo.xml: the first <release> is not "
                        "${PROJECT_VERSION}")
endif()

# Desktop entry, AppStream metadata, icons (the PNGs are rendered from the SVG and committed:
# installer/icons/render-png.sh).
if(GRIFFIN_BUILD_APP)
    install(FILES "${_griffin_installer}/griffin-chat.desktop"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
    install(FILES "${_griffin_installer}/${GRIFFIN_APP_ID}.metainfo.xml"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
    install(FILES "${_griffin_installer}/icons/griffin-chat.svg"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
    foreach(_size 16 24 32 48 64 128 256 512)
        install(FILES "${_griffin_installer}/icons/griffin-chat-${_size}.png"
                DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${_size}x${_size}/apps
                RENAME griffin-chat.png)
    endforeach()
endif()

# Manual pages, compressed without a timestamp (as Debian policy asks for).
set(_griffin_gz_files)
foreach(_page griffin.1 griffin-chat.1)
    set(_gz "${CMAKE_CURRENT_BINARY_DIR}/installer/${_page}.gz")
    add_custom_command(OUTPUT "${_gz}"
        COMMAND gzip -9 --no-name --stdout "${_griffin_installer}/man/${_page}" > "${_gz}"
        DEPENDS "${_griffin_installer}/man/${_page}"
        COMMENT "Compressing installer/man/${_page}")
    list(APPEND _griffin_gz_files "${_gz}")
endforeach()
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/installer/griffin.1.gz"
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
if(GRIFFIN_BUILD_APP)
    install(FILES "${CMAKE_CURRENT_BINARY_DIR}/installer/griffin-chat.1.gz"
            DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# share/doc/griffin-chat: licences of the program and of the demo model's training data (WordNet)
# in Debian's machine-readable format, the changelog and the README.
set(_griffin_changelog_gz "${CMAKE_CURRENT_BINARY_DIR}/installer/changelog.gz")
add_custom_command(OUTPUT "${_griffin_changelog_gz}"
    COMMAND gzip -9 --no-name --stdout "${_griffin_installer}/changelog" > "${_griffin_changelog_gz}"
    DEPENDS "${_griffin_installer}/changelog"
    COMMENT "Compressing installer/changelog")
add_custom_target(griffin_installer_files ALL
    DEPENDS "${_griffin_changelog_gz}" ${_griffin_gz_files})
install(FILES "${_griffin_installer}/copyright" "${_griffin_changelog_gz}"
              "${PROJECT_SOURCE_DIR}/README.md"
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# CPack: `cpack` in the build folder writes griffin-chat_<version>_<arch>.deb and
# griffin-chat-<version>-Linux.tar.gz there.
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_PACKAGE_NAME "griffin-chat")
set(CPACK_PACKAGE_VENDOR "Griffin Chat maintainers")
set(CPACK_PACKAGE_CONTACT "${GRIFFIN_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local chat app for RecurrentGemma language models")
# Debian wants description lines under 80 characters.
set(CPACK_PACKAGE_DESCRIPTION
    "Griffin Chat runs Google's RecurrentGemma models (the Griffin architecture)
on this computer, with nothing sent over the network. The model's memory of
a conversation has a fixed size, so long chats and whole documents do not
use more memory as they grow.

The package contains the desktop app (griffin-chat), a command line tool
(griffin) for generation, summaries, benchmarks and model conversion, a
small demo model that knows English word meanings, and the default safety
rules. Real models (for example recurrentgemma-2b-it) are opened from a
folder or a GGUF file; nothing is downloaded.")
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${GRIFFIN_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
# Libraries come from dpkg-shlibdeps; Qt's platform plugins (loaded at run time, so invisible to
# it) are needed to open a window; a Vulkan driver is optional (the CPU backend is the fallback).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(GRIFFIN_BUILD_APP)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
endif()
if(GRIFFIN_VULKAN)
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mesa-vulkan-drivers | vulkan-icd")
endif()

# `cpack --config CPackSourceConfig.cmake`: a source tarball without the git history and build
# folders (its binaries report the commit as "unknown").
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/\\\\.cache/" "/build[^/]*/" "/tools/demo_model/out/")

include(CPack)

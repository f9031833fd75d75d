# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for thaw's manual: 'make docs' builds it as HTML into
# build/docs with warnings as errors.  Only what Debian's python3-sphinx
# ships is used: no extensions, the default theme.

import os

project = 'thaw'
# The tree's one version (../VERSION), as the programs and thaw.ko have it.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                       'VERSION')) as f:
    version = release = f.read().strip()
copyright = 'The thaw authors'
author = 'The thaw authors'

root_doc = 'index'
exclude_patterns = []
# Literal blocks hold shell sessions, C and tables of output: do not guess
# a lexer and warn when the guess fails.
highlight_language = 'none'

html_theme = 'alabaster'
html_show_sourcelink = False
html_copy_source = False

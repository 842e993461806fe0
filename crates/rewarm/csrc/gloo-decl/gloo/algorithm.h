// See README.md: declarations only.
#pragma once

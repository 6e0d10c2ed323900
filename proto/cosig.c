/* cosig.c: placeholder until implemented. */
#include "kt/err.h"
typedef int kt_placeholder_cosig;

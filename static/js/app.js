// The little JavaScript parro needs; everything works without it.
"use strict";

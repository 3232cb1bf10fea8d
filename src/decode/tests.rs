//! Hand-annotated frames for every link type, one test per truncation point,
//! and property tests feeding arbitrary and mutated bytes to the decoder.

use super::*;

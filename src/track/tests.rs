//! Tracker tests built from crafted segments.

use super::*;

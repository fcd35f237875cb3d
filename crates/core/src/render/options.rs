//! How a rendering is presented (colour, width): shared by the plan's and the fleet report's
//! renderers.

/// Presentation options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Use ANSI colours (tables only).
    pub color: bool,
    /// Terminal width for tables, when known.
    pub width: Option<u16>,
}

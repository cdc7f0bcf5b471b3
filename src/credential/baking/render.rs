//! Rendering badge artwork (SVG) to PNG with resvg.

use resvg::{tiny_skia, usvg};

use super::error::{BakeError, MAX_RENDER_SIZE};

// ---------------------------------------------------------------------------------------------
// Rendering

/// Renders `svg` to a `size`×`size` PNG, scaled to fit and centred, transparent elsewhere.
///
/// External files are never read: an `<image>` that points at a path is dropped (`data:` URLs
/// still work). `<text>` is not drawn (there are no fonts here): the program's artwork has its
/// lettering as outlines.
pub fn render_png(svg: &str, size: u32) -> Result<Vec<u8>, BakeError> {
    if size == 0 || size > MAX_RENDER_SIZE {
        return Err(BakeError::InvalidSize(size));
    }
    let mut options = usvg::Options::default();
    options.image_href_resolver.resolve_string = Box::new(|_, _| None);
    let tree =
        usvg::Tree::from_str(svg, &options).map_err(|e| BakeError::SvgParse(e.to_string()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size, size).ok_or(BakeError::InvalidSize(size))?;
    let (width, height) = (tree.size().width(), tree.size().height());
    let edge = size as f32;
    let scale = (edge / width).min(edge / height);
    let (dx, dy) = ((edge - width * scale) / 2.0, (edge - height * scale) / 2.0);
    let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, dx, dy);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| BakeError::PngEncode(e.to_string()))
}

//! The enrolment QR code, as inline SVG (no image files, no external
//! service), drawn with the `qrcode` crate.

use qrcode::{EcLevel, QrCode, render::svg};

/// An `<svg>` element of `text`'s QR code, or `None` when the text is too
/// long for one (an `otpauth://` URI never is).
pub(crate) fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // An element to put in a page: without the XML declaration.
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_becomes_an_svg_element() {
        let uri = super::super::totp::otpauth_uri("Site", "alice", &[7u8; 20]);
        let svg = super::svg(&uri).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script"));
    }
}

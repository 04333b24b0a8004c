//! Plan mode: changes recorded instead of made, and placeholders for values that only a
//! real run would know.

use serde::Serialize;

use crate::types::{ImageId, Region};

/// One change a run would make.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedChange {
    pub operation: String,
    pub region: String,
    pub resource: String,
    /// Accounts or other targets the change grants or revokes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Launch permissions as a diff against the image's current ones: `+ id`, `= id`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// An image reference as host functions accept it: a real ID, or a placeholder for an image
/// that a planned change would create.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageRef {
    Real(ImageId),
    Planned(PlannedImage),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedImage {
    pub label: String,
    pub region: Region,
    pub name: String,
}

impl ImageRef {
    pub fn label(&self) -> String {
        match self {
            Self::Real(id) => id.to_string(),
            Self::Planned(image) => image.label.clone(),
        }
    }
}

/// Changes and placeholders of one plan.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<PlannedChange>,
    pub images: Vec<PlannedImage>,
}

impl Plan {
    /// Allocates a placeholder such as `(new image 1: ap-southeast-1)`.
    pub fn new_image(&mut self, region: &Region, name: &str) -> PlannedImage {
        let image = PlannedImage {
            label: format!("(new image {}: {region})", self.images.len() + 1),
            region: region.clone(),
            name: name.to_owned(),
        };
        self.images.push(image.clone());
        image
    }

    pub fn find(&self, label: &str) -> Option<&PlannedImage> {
        self.images.iter().find(|image| image.label == label)
    }
}

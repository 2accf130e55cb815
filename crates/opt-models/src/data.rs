//! Image classification data: the embedded `digits` split and a loader for
//! MNIST / Fashion-MNIST IDX files.
//!
//! A [`Dataset`] holds `n` images of shape `(channels, height, width)` as
//! `f32` in row-major order (`n x features`, `features = c h w`) and one
//! class label in `0..num_classes` per image. [`Dataset::batch`] gathers the
//! samples at some indices into candle tensors: images `[b, features]`
//! ([`BatchLayout::Flat`], for an MLP) or `[b, c, h, w]`
//! ([`BatchLayout::Image`], for a CNN), and labels `[b]` of `u32` (what
//! `candle_nn::loss::cross_entropy` takes).
//!
//! # Digits
//!
//! [`digits`] is the UCI optical-recognition digits set as scikit-learn
//! ships it (1797 images, 8x8, pixels `0..=16`, classes `0..=9`; source,
//! licence and sha256 in `crates/opt-bench/data/digits/README.md`). The
//! first 1437 rows train, the last 360 test (the rows are not shuffled, so
//! the split is fixed), and every pixel is divided by 16 into `[0, 1]`.
//!
//! # IDX (MNIST, Fashion-MNIST)
//!
//! An IDX file is a big-endian header, then the data:
//!
//! ```text
//! magic: u32 = 0x00000800 + number of dimensions (data type 0x08 = unsigned byte)
//! dims:  one u32 per dimension
//! data:  prod(dims) bytes, the last dimension varying fastest
//! ```
//!
//! Images are `0x00000803` with dims `(count, rows, cols)`, labels
//! `0x00000801` with dims `(count)` (LeCun, Cortes & Burges, "The MNIST
//! database of handwritten digits", file format section; Fashion-MNIST uses
//! the same files). [`load_idx_dir`] reads the four standard files of a
//! directory, each plain or gzipped (recognised by the gzip magic bytes
//! `1f 8b`, whatever the name), divides pixels by 255 and sets
//! `num_classes = 10` (both sets have ten classes; a larger label is an
//! error). Every defect of a file (wrong magic number, truncated header or
//! data, trailing bytes, corrupt gzip stream, label out of range, image and
//! label counts that differ) is an error naming the file; sizes are
//! multiplied with overflow checks and memory grows only with the bytes
//! actually read, so no header can make the loader panic or allocate more
//! than the file holds.

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use flate2::read::MultiGzDecoder;

use crate::error::{ModelError, Result};

/// The shape of one image: `(channels, height, width)`.
pub type ImageShape = (usize, usize, usize);

/// Shape of a digits image: one channel, 8 x 8.
pub const DIGITS_SHAPE: ImageShape = (1, 8, 8);
/// Shape of an MNIST / Fashion-MNIST image: one channel, 28 x 28.
pub const MNIST_SHAPE: ImageShape = (1, 28, 28);
/// Number of classes of digits, MNIST and Fashion-MNIST.
pub const NUM_CLASSES: usize = 10;
/// Rows of the digits file used for training (the first ones).
pub const DIGITS_TRAIN_LEN: usize = 1437;
/// Rows of the digits file used for testing (the last ones).
pub const DIGITS_TEST_LEN: usize = 360;
/// The largest digits pixel value; pixels are divided by it.
pub const DIGITS_PIXEL_MAX: u8 = 16;
/// Name of the embedded digits file in messages.
pub const DIGITS_FILE: &str = "opt-bench/data/digits/digits.csv";
/// The embedded digits CSV: 1797 rows of 64 pixels in `0..=16`, then the
/// class `0..=9`, no header.
///
/// The path crosses crates on purpose: `opt-bench` owns the file with its
/// README (source, licence, sha256) and its own loader, and embedding it
/// from there keeps a single copy of the data in the repository. (A crate
/// that includes files outside its directory cannot be published alone;
/// this workspace is used from its repository.)
pub const DIGITS_CSV: &str = include_str!("../../opt-bench/data/digits/digits.csv");

/// Magic number of an IDX file of unsigned bytes in 3 dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes in 1 dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// The first two bytes of a gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How [`Dataset::batch`] shapes the images of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchLayout {
    /// `[batch, features]`, each image flattened row-major (for an MLP).
    Flat,
    /// `[batch, channels, height, width]` (for a CNN).
    Image,
}

/// Images with one class label each, held in memory as `f32`.
#[derive(Clone)]
pub struct Dataset {
    /// `len x feature_len` values, row-major.
    images: Vec<f32>,
    /// One class per image, each `< num_classes`.
    labels: Vec<u32>,
    num_classes: usize,
    shape: ImageShape,
}

impl std::fmt::Debug for Dataset {
    /// The sizes only; the values would fill pages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("len", &self.len())
            .field("image_shape", &self.shape)
            .field("num_classes", &self.num_classes)
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// A data set of `labels.len()` images of shape `shape`, `images` holding
    /// them row-major (`labels.len() * c * h * w` values).
    ///
    /// Errors: an empty data set, a zero image dimension or one whose size
    /// overflows, fewer than 2 classes ([`ModelError::InvalidArgument`]);
    /// `images` of the wrong length ([`ModelError::ShapeMismatch`]); a
    /// non-finite pixel or a label `>= num_classes`
    /// ([`ModelError::InvalidArgument`], naming the sample).
    pub fn new(
        images: Vec<f32>,
        labels: Vec<u32>,
        num_classes: usize,
        shape: ImageShape,
    ) -> Result<Self> {
        let (channels, height, width) = shape;
        let features = channels
            .checked_mul(height)
            .and_then(|size| size.checked_mul(width))
            .filter(|&size| size > 0)
            .ok_or_else(|| ModelError::InvalidArgument {
                name: "image shape",
                value: format!("{shape:?}"),
                reason: "every dimension must be positive and their product fit in usize"
                    .to_owned(),
            })?;
        if labels.is_empty() {
            return Err(ModelError::InvalidArgument {
                name: "labels",
                value: "[]".to_owned(),
                reason: "a data set needs at least one sample".to_owned(),
            });
        }
        if num_classes < 2 {
            return Err(ModelError::InvalidArgument {
                name: "num_classes",
                value: num_classes.to_string(),
                reason: "a classification data set needs at least 2 classes".to_owned(),
            });
        }
        let expected = labels.len().checked_mul(features);
        if expected != Some(images.len()) {
            return Err(ModelError::ShapeMismatch {
                what: "data set images".to_owned(),
                expected: format!(
                    "{} values ({} images of {features} = {channels} x {height} x {width})",
                    expected.map_or_else(|| "more than usize::MAX".to_owned(), |e| e.to_string()),
                    labels.len()
                ),
                got: images.len().to_string(),
            });
        }
        if let Some(position) = images.iter().position(|value| !value.is_finite()) {
            return Err(ModelError::InvalidArgument {
                name: "images",
                value: images[position].to_string(),
                reason: format!(
                    "pixel {} of image {} is not finite",
                    position % features,
                    position / features
                ),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &label)| label as usize >= num_classes)
        {
            return Err(ModelError::InvalidArgument {
                name: "labels",
                value: label.to_string(),
                reason: format!("label of sample {index} is not a class in 0..{num_classes}"),
            });
        }
        Ok(Self {
            images,
            labels,
            num_classes,
            shape,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a data set has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image, `channels * height * width`.
    pub fn feature_len(&self) -> usize {
        let (channels, height, width) = self.shape;
        channels * height * width
    }

    /// Shape of one image, `(channels, height, width)`.
    pub fn image_shape(&self) -> ImageShape {
        self.shape
    }

    /// Number of classes; every label is below it.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All images, row-major, `len() x feature_len()`.
    pub fn images(&self) -> &[f32] {
        &self.images
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Image `index` (flattened) and its label, if `index < len()`.
    pub fn sample(&self, index: usize) -> Option<(&[f32], u32)> {
        let label = *self.labels.get(index)?;
        let features = self.feature_len();
        let start = index * features;
        Some((&self.images[start..start + features], label))
    }

    /// The samples at `indices` (in that order, repeats allowed) as `f32`
    /// tensors on `device`: images shaped by `layout`, labels `[b]` of `u32`.
    ///
    /// Errors: no indices, or an index `>= len()`
    /// ([`ModelError::InvalidArgument`]); a candle error.
    pub fn batch(
        &self,
        indices: &[usize],
        layout: BatchLayout,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        self.batch_with_dtype(indices, layout, DType::F32, device)
    }

    /// [`Dataset::batch`] with images of a floating-point `dtype` (`F64` for
    /// gradient checks: the `f32` values widened exactly; `F16` / `BF16`
    /// rounded from `f32` by candle). Labels stay `u32`.
    ///
    /// Errors: those of [`Dataset::batch`]; an integer `dtype`
    /// ([`ModelError::InvalidArgument`]).
    pub fn batch_with_dtype(
        &self,
        indices: &[usize],
        layout: BatchLayout,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        if indices.is_empty() {
            return Err(ModelError::InvalidArgument {
                name: "batch indices",
                value: "[]".to_owned(),
                reason: "a batch needs at least one sample".to_owned(),
            });
        }
        if let Some(&index) = indices.iter().find(|&&index| index >= self.len()) {
            return Err(self.index_error(index));
        }
        self.gather(
            indices.iter().copied(),
            indices.len(),
            layout,
            dtype,
            device,
        )
    }

    /// The contiguous samples `range` as tensors, like
    /// [`Dataset::batch_with_dtype`] on the indices of `range` (for
    /// evaluating a data set in chunks).
    ///
    /// Errors: an empty range or one reaching past `len()`
    /// ([`ModelError::InvalidArgument`]); an integer `dtype`; a candle error.
    pub fn batch_range(
        &self,
        range: Range<usize>,
        layout: BatchLayout,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        if range.start >= range.end || range.end > self.len() {
            return Err(ModelError::InvalidArgument {
                name: "batch range",
                value: format!("{range:?}"),
                reason: format!(
                    "must be a non-empty range within the {} samples",
                    self.len()
                ),
            });
        }
        let count = range.len();
        self.gather(range, count, layout, dtype, device)
    }

    /// A new data set of the samples at `indices` (in that order, repeats
    /// allowed), with the same shape and number of classes.
    ///
    /// Errors: no indices, or an index `>= len()`
    /// ([`ModelError::InvalidArgument`]).
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        if indices.is_empty() {
            return Err(ModelError::InvalidArgument {
                name: "subset indices",
                value: "[]".to_owned(),
                reason: "a data set needs at least one sample".to_owned(),
            });
        }
        let features = self.feature_len();
        let mut images = Vec::with_capacity(indices.len() * features);
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            let (image, label) = self.sample(index).ok_or_else(|| self.index_error(index))?;
            images.extend_from_slice(image);
            labels.push(label);
        }
        Ok(Self {
            images,
            labels,
            num_classes: self.num_classes,
            shape: self.shape,
        })
    }

    /// The first `at` samples and the rest, as two data sets.
    ///
    /// Errors: `at == 0` or `at >= len()` (one part would be empty;
    /// [`ModelError::InvalidArgument`]).
    pub fn split_at(&self, at: usize) -> Result<(Self, Self)> {
        if at == 0 || at >= self.len() {
            return Err(ModelError::InvalidArgument {
                name: "split point",
                value: at.to_string(),
                reason: format!(
                    "must be in 1..{} so that both parts have samples",
                    self.len()
                ),
            });
        }
        let cut = at * self.feature_len();
        let part = |images: &[f32], labels: &[u32]| Self {
            images: images.to_vec(),
            labels: labels.to_vec(),
            num_classes: self.num_classes,
            shape: self.shape,
        };
        Ok((
            part(&self.images[..cut], &self.labels[..at]),
            part(&self.images[cut..], &self.labels[at..]),
        ))
    }

    fn index_error(&self, index: usize) -> ModelError {
        ModelError::InvalidArgument {
            name: "sample index",
            value: index.to_string(),
            reason: format!("the data set has {} samples", self.len()),
        }
    }

    /// The images and labels of `indices` (all `< len()`, `count` of them)
    /// as tensors.
    fn gather(
        &self,
        indices: impl Iterator<Item = usize> + Clone,
        count: usize,
        layout: BatchLayout,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let features = self.feature_len();
        let rows = indices
            .clone()
            .map(|index| &self.images[index * features..(index + 1) * features]);
        let images = match dtype {
            DType::F64 => {
                let mut values = Vec::with_capacity(count * features);
                for row in rows {
                    values.extend(row.iter().map(|&value| f64::from(value)));
                }
                Tensor::from_vec(values, (count, features), device)?
            }
            DType::F32 | DType::F16 | DType::BF16 => {
                let mut values = Vec::with_capacity(count * features);
                for row in rows {
                    values.extend_from_slice(row);
                }
                Tensor::from_vec(values, (count, features), device)?.to_dtype(dtype)?
            }
            other => {
                return Err(ModelError::InvalidArgument {
                    name: "dtype",
                    value: format!("{other:?}"),
                    reason: "images need a floating-point dtype (F32, F64, F16 or BF16)".to_owned(),
                });
            }
        };
        let images = match layout {
            BatchLayout::Flat => images,
            BatchLayout::Image => {
                let (channels, height, width) = self.shape;
                images.reshape((count, channels, height, width))?
            }
        };
        let labels: Vec<u32> = indices.map(|index| self.labels[index]).collect();
        let labels = Tensor::from_vec(labels, count, device)?;
        Ok((images, labels))
    }
}

/// The embedded digits set, split into (train, test): the first
/// [`DIGITS_TRAIN_LEN`] rows and the last [`DIGITS_TEST_LEN`], images
/// [`DIGITS_SHAPE`], pixels divided by 16 into `[0, 1]`, 10 classes.
///
/// Errors: none for the file in the repository; a damaged copy is a
/// [`ModelError::Malformed`] naming [`DIGITS_FILE`] and the line.
pub fn digits() -> Result<(Dataset, Dataset)> {
    let all = parse_digits_csv(DIGITS_CSV, DIGITS_FILE)?;
    let expected_rows = DIGITS_TRAIN_LEN + DIGITS_TEST_LEN;
    if all.len() != expected_rows {
        return Err(ModelError::Malformed {
            file: DIGITS_FILE.to_owned(),
            reason: format!("{} rows, expected {expected_rows}", all.len()),
        });
    }
    all.split_at(DIGITS_TRAIN_LEN)
}

/// Parse digits rows (64 integer pixels in `0..=16`, then the class in
/// `0..=9`; no header; `\r\n` and trailing blank lines tolerated) into one
/// data set with pixels divided by 16. `file` names the text in errors.
fn parse_digits_csv(text: &str, file: &str) -> Result<Dataset> {
    let (_, height, width) = DIGITS_SHAPE;
    let pixels_per_row = height * width;
    let malformed = |line: usize, reason: String| ModelError::Malformed {
        file: file.to_owned(),
        reason: format!("line {line}: {reason}"),
    };
    let lines: Vec<&str> = text.lines().collect();
    let used = lines
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(0, |last| last + 1);
    let mut images = Vec::with_capacity(used * pixels_per_row);
    let mut labels = Vec::with_capacity(used);
    for (index, line) in lines[..used].iter().enumerate() {
        let number = index + 1;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != pixels_per_row + 1 {
            return Err(malformed(
                number,
                format!(
                    "expected {} fields (64 pixels, then the class), found {}",
                    pixels_per_row + 1,
                    fields.len()
                ),
            ));
        }
        for (column, field) in fields[..pixels_per_row].iter().enumerate() {
            match field.parse::<u8>() {
                Ok(pixel) if pixel <= DIGITS_PIXEL_MAX => {
                    images.push(f32::from(pixel) / f32::from(DIGITS_PIXEL_MAX));
                }
                _ => {
                    return Err(malformed(
                        number,
                        format!(
                            "column {}: pixel `{field}` is not an integer in 0..={DIGITS_PIXEL_MAX}",
                            column + 1
                        ),
                    ));
                }
            }
        }
        let class = fields[pixels_per_row];
        match class.parse::<u32>() {
            Ok(label) if (label as usize) < NUM_CLASSES => labels.push(label),
            _ => {
                return Err(malformed(
                    number,
                    format!(
                        "column {}: class `{class}` is not an integer in 0..{NUM_CLASSES}",
                        pixels_per_row + 1
                    ),
                ));
            }
        }
    }
    if labels.is_empty() {
        return Err(malformed(1, "no rows".to_owned()));
    }
    Dataset::new(images, labels, NUM_CLASSES, DIGITS_SHAPE)
}

/// The contents of an IDX images file, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows of each image.
    pub rows: usize,
    /// Columns of each image.
    pub cols: usize,
    /// `count * rows * cols` pixels, image by image, row-major, `0..=255`.
    pub pixels: Vec<u8>,
}

/// What an IDX file of some kind must start with.
struct IdxKind {
    magic: u32,
    dims: usize,
    description: &'static str,
}

const IDX_IMAGES: IdxKind = IdxKind {
    magic: IDX_IMAGES_MAGIC,
    dims: 3,
    description: "IDX images: unsigned bytes, 3 dimensions",
};

const IDX_LABELS: IdxKind = IdxKind {
    magic: IDX_LABELS_MAGIC,
    dims: 1,
    description: "IDX labels: unsigned bytes, 1 dimension",
};

/// Read an IDX images file (magic `0x00000803`, dims `count, rows, cols`),
/// plain or gzipped.
///
/// Errors name the file: it cannot be read ([`ModelError::Io`]); a wrong
/// magic number, a header or data shorter than the dimensions say, bytes
/// after the data, dimensions whose product overflows, a corrupt gzip
/// stream ([`ModelError::Malformed`]).
pub fn load_idx_images(path: &Path) -> Result<IdxImages> {
    let (dims, pixels) = read_idx(path, &IDX_IMAGES)?;
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Read an IDX labels file (magic `0x00000801`, dim `count`), plain or
/// gzipped: one byte per label, as stored (not checked against a number of
/// classes; [`load_idx_pair`] does that).
///
/// Errors: as [`load_idx_images`].
pub fn load_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let (_, labels) = read_idx(path, &IDX_LABELS)?;
    Ok(labels)
}

/// One data set from an IDX images file and its labels file: shape
/// `(1, rows, cols)`, pixels divided by 255, [`NUM_CLASSES`] classes.
///
/// Errors: those of [`load_idx_images`] and [`load_idx_labels`]; image and
/// label counts that differ ([`ModelError::ShapeMismatch`] naming both
/// files); a label `>= 10`, no images, or an image with no pixels
/// ([`ModelError::Malformed`] naming the file).
pub fn load_idx_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    let images = load_idx_images(images_path)?;
    let labels = load_idx_labels(labels_path)?;
    let images_file = images_path.display().to_string();
    let labels_file = labels_path.display().to_string();
    if images.count != labels.len() {
        return Err(ModelError::ShapeMismatch {
            what: format!("images in {images_file} and labels in {labels_file}"),
            expected: format!("{} labels (one per image)", images.count),
            got: format!("{} labels", labels.len()),
        });
    }
    if images.count == 0 {
        return Err(ModelError::Malformed {
            file: images_file,
            reason: "the file holds no images".to_owned(),
        });
    }
    if images.rows == 0 || images.cols == 0 {
        return Err(ModelError::Malformed {
            file: images_file,
            reason: format!(
                "images of {} x {} pixels are empty",
                images.rows, images.cols
            ),
        });
    }
    if let Some((index, &label)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &label)| usize::from(label) >= NUM_CLASSES)
    {
        return Err(ModelError::Malformed {
            file: labels_file,
            reason: format!(
                "label {label} of item {index} is not a class in 0..{NUM_CLASSES} \
                 (MNIST and Fashion-MNIST have {NUM_CLASSES} classes)"
            ),
        });
    }
    let pixels = images
        .pixels
        .iter()
        .map(|&pixel| f32::from(pixel) / 255.0)
        .collect();
    let labels = labels.into_iter().map(u32::from).collect();
    Dataset::new(pixels, labels, NUM_CLASSES, (1, images.rows, images.cols))
}

/// The file names looked for in [`load_idx_dir`], per file: the standard
/// name first, then the spelling of some mirrors (`.` before `idx`); each
/// also with `.gz`.
const IDX_FILE_NAMES: [[&str; 2]; 4] = [
    ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
    ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
];

/// The (train, test) sets of an MNIST or Fashion-MNIST directory: the files
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each also accepted
/// with `.` for the `-` before `idx` and with a `.gz` suffix (gzipped). When
/// several names of one file exist, the first of that order is read, plain
/// before `.gz`. Each set as [`load_idx_pair`] makes it.
///
/// Errors: a file missing ([`ModelError::Io`] of kind `NotFound`, listing
/// the names looked for); those of [`load_idx_pair`]; train and test images
/// of different sizes ([`ModelError::ShapeMismatch`] naming both files).
pub fn load_idx_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    let [train_images, train_labels, test_images, test_labels] = IDX_FILE_NAMES;
    let train_images = find_idx_file(dir, &train_images)?;
    let train_labels = find_idx_file(dir, &train_labels)?;
    let test_images = find_idx_file(dir, &test_images)?;
    let test_labels = find_idx_file(dir, &test_labels)?;
    let train = load_idx_pair(&train_images, &train_labels)?;
    let test = load_idx_pair(&test_images, &test_labels)?;
    if train.image_shape() != test.image_shape() {
        return Err(ModelError::ShapeMismatch {
            what: format!(
                "image size of {} and {}",
                train_images.display(),
                test_images.display()
            ),
            expected: format!("{:?} (the training images)", train.image_shape()),
            got: format!("{:?}", test.image_shape()),
        });
    }
    Ok((train, test))
}

/// The first of `names` (each plain, then with `.gz`) that is a file in `dir`.
fn find_idx_file(dir: &Path, names: &[&str]) -> Result<PathBuf> {
    let candidates: Vec<String> = names
        .iter()
        .flat_map(|name| [(*name).to_owned(), format!("{name}.gz")])
        .collect();
    if let Some(found) = candidates
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
    {
        return Ok(found);
    }
    let directory_note = if dir.is_dir() {
        String::new()
    } else {
        " (the directory does not exist)".to_owned()
    };
    Err(ModelError::Io {
        file: dir.join(names[0]).display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "no IDX file found: looked for {} in {}{directory_note}",
                candidates.join(", "),
                dir.display()
            ),
        ),
    })
}

/// Read the file at `path` (decompressing it if it starts with the gzip
/// magic bytes) as an IDX file of `kind`: its dimensions and data.
fn read_idx(path: &Path, kind: &IdxKind) -> Result<(Vec<usize>, Vec<u8>)> {
    let file = path.display().to_string();
    let raw = std::fs::read(path).map_err(|source| ModelError::Io {
        file: file.clone(),
        source,
    })?;
    if raw.starts_with(&GZIP_MAGIC) {
        parse_idx(MultiGzDecoder::new(raw.as_slice()), &file, kind, true)
    } else {
        parse_idx(raw.as_slice(), &file, kind, false)
    }
}

/// Parse an IDX stream of `kind` from `reader`. `gzipped` says whether read
/// errors come from a gzip decoder (a corrupt stream) or from the file.
fn parse_idx<R: Read>(
    mut reader: R,
    file: &str,
    kind: &IdxKind,
    gzipped: bool,
) -> Result<(Vec<usize>, Vec<u8>)> {
    let malformed = |reason: String| ModelError::Malformed {
        file: file.to_owned(),
        reason,
    };
    let read_error = |source: std::io::Error| {
        if gzipped {
            malformed(format!("corrupt gzip stream: {source}"))
        } else {
            ModelError::Io {
                file: file.to_owned(),
                source,
            }
        }
    };
    let header_len = 4 * (1 + kind.dims);
    let mut header = Vec::with_capacity(header_len);
    (&mut reader)
        .take(header_len as u64)
        .read_to_end(&mut header)
        .map_err(read_error)?;
    let word = |index: usize| {
        let bytes = &header[4 * index..4 * index + 4];
        u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    };
    if header.len() >= 4 && word(0) != kind.magic {
        let found = word(0);
        let hint = match found {
            IDX_IMAGES_MAGIC => " (that is an IDX images file)",
            IDX_LABELS_MAGIC => " (that is an IDX labels file)",
            _ => "",
        };
        return Err(malformed(format!(
            "wrong magic number 0x{found:08x}{hint}, expected 0x{:08x} ({})",
            kind.magic, kind.description
        )));
    }
    if header.len() < header_len {
        return Err(malformed(format!(
            "truncated header: {} bytes, expected {header_len} ({})",
            header.len(),
            kind.description
        )));
    }
    let dims: Vec<usize> = (1..=kind.dims)
        .map(|index| usize::try_from(word(index)))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| malformed("a dimension does not fit in usize".to_owned()))?;
    let data_len = dims
        .iter()
        .try_fold(1_usize, |product, &dim| product.checked_mul(dim))
        .ok_or_else(|| malformed(format!("the dimensions {dims:?} overflow usize")))?;
    // Read at most one byte more than the data, so that trailing bytes are
    // seen and memory grows only with the bytes the file really holds.
    let limit = u64::try_from(data_len)
        .ok()
        .and_then(|len| len.checked_add(1))
        .ok_or_else(|| malformed(format!("the dimensions {dims:?} overflow u64")))?;
    let mut data = Vec::new();
    reader
        .take(limit)
        .read_to_end(&mut data)
        .map_err(read_error)?;
    if data.len() < data_len {
        return Err(malformed(format!(
            "truncated data: {} bytes after the header, the dimensions {dims:?} need {data_len}",
            data.len()
        )));
    }
    if data.len() > data_len {
        return Err(malformed(format!(
            "trailing bytes after the {data_len} data bytes of the dimensions {dims:?}"
        )));
    }
    Ok((dims, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_parser_names_line_and_column() {
        let row = |pixel: &str, class: &str| {
            let mut fields = vec!["0"; 64];
            fields[5] = pixel;
            format!("{},{class}\n", fields.join(","))
        };
        let good = row("16", "9");
        let error = |text: &str| parse_digits_csv(text, "d.csv").unwrap_err().to_string();
        assert_eq!(
            error(&format!("{good}{}", row("17", "1"))),
            "malformed d.csv: line 2: column 6: pixel `17` is not an integer in 0..=16"
        );
        assert_eq!(
            error(&row("-1", "1")),
            "malformed d.csv: line 1: column 6: pixel `-1` is not an integer in 0..=16"
        );
        assert_eq!(
            error(&row("1", "10")),
            "malformed d.csv: line 1: column 65: class `10` is not an integer in 0..10"
        );
        assert_eq!(
            error(&format!("{good}1,2,3\n")),
            "malformed d.csv: line 2: expected 65 fields (64 pixels, then the class), found 3"
        );
        assert_eq!(error("\n \n"), "malformed d.csv: line 1: no rows");
        let parsed = parse_digits_csv(&format!("{good}\r\n\n"), "d.csv").unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed.sample(0).unwrap().0[5], 1.0);
        assert_eq!(parsed.sample(0).unwrap().1, 9);
    }

    #[test]
    fn idx_header_words_are_big_endian() {
        let bytes = [0, 0, 8, 1, 0, 0, 0, 2, 7, 9];
        let (dims, data) = parse_idx(bytes.as_slice(), "l", &IDX_LABELS, false).unwrap();
        assert_eq!((dims, data), (vec![2], vec![7, 9]));
    }

    #[test]
    fn idx_dimensions_that_overflow_are_an_error() {
        let mut bytes = vec![0, 0, 8, 3];
        for _ in 0..3 {
            bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        let message = parse_idx(bytes.as_slice(), "i", &IDX_IMAGES, false)
            .unwrap_err()
            .to_string();
        // 64-bit: (2^32 - 1)^3 overflows usize; 32-bit: it already did.
        assert!(message.contains("overflow"), "{message}");
    }
}

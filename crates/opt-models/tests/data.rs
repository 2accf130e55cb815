//! The digits split, batches as candle tensors, and the IDX loader on small
//! files written here (plain and gzipped, and every defect it must report).

use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use flate2::Compression;
use flate2::write::GzEncoder;
use opt_models::ModelError;
use opt_models::data::{
    BatchLayout, DIGITS_CSV, DIGITS_SHAPE, DIGITS_TEST_LEN, DIGITS_TRAIN_LEN, Dataset,
    IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxImages, digits, load_idx_dir, load_idx_images,
    load_idx_labels, load_idx_pair,
};

// ---------------------------------------------------------------- digits --

/// The data file and its README, read here independently of the crate.
const CSV: &str = include_str!("../../opt-bench/data/digits/digits.csv");
const README: &str = include_str!("../../opt-bench/data/digits/README.md");

/// Rows of the CSV as (64 raw pixels, class), parsed without the crate.
fn csv_rows() -> Vec<(Vec<u8>, u32)> {
    CSV.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<u32> = line.split(',').map(|f| f.trim().parse().unwrap()).collect();
            assert_eq!(fields.len(), 65);
            let pixels = fields[..64].iter().map(|&p| u8::try_from(p).unwrap());
            (pixels.collect(), fields[64])
        })
        .collect()
}

#[test]
fn embedded_digits_file_is_the_documented_one() {
    assert_eq!(DIGITS_CSV, CSV);
    // Line endings normalised so that a CRLF checkout still hashes the same.
    let digest = sha256_hex(CSV.replace("\r\n", "\n").as_bytes());
    assert_eq!(
        digest,
        "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
    );
    assert!(
        README.contains(&format!("sha256 of `digits.csv`: `{digest}`")),
        "the README states another sha256"
    );
}

#[test]
fn digits_split_has_documented_sizes_and_ranges() {
    let (train, test) = digits().unwrap();
    assert_eq!(
        (train.len(), test.len()),
        (DIGITS_TRAIN_LEN, DIGITS_TEST_LEN)
    );
    assert_eq!((train.len(), test.len()), (1437, 360));
    for set in [&train, &test] {
        assert_eq!(set.image_shape(), (1, 8, 8));
        assert_eq!(set.image_shape(), DIGITS_SHAPE);
        assert_eq!(set.feature_len(), 64);
        assert_eq!(set.num_classes(), 10);
        assert_eq!(set.images().len(), set.len() * 64);
        assert!(!set.is_empty());
        // Pixels k / 16 for integers k in 0..=16, exactly.
        assert!(
            set.images()
                .iter()
                .all(|&p| { (0.0..=1.0).contains(&p) && (p * 16.0).fract() == 0.0 })
        );
        assert!(set.labels().iter().all(|&y| y < 10));
    }
    // Both ends of the range occur.
    assert!(train.images().contains(&0.0) && train.images().contains(&1.0));
    // Class counts of all rows, from the README.
    let mut counts = [0_usize; 10];
    for &y in train.labels().iter().chain(test.labels()) {
        counts[y as usize] += 1;
    }
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

#[test]
fn digits_rows_match_the_csv_in_order() {
    let rows = csv_rows();
    assert_eq!(rows.len(), 1797);
    // First and last rows, written out from the file.
    assert_eq!(
        rows[0].0[..16],
        [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    );
    assert_eq!(rows[0].1, 0);
    assert_eq!(rows[1796].0[..8], [0, 0, 10, 14, 8, 1, 0, 0]);
    assert_eq!(rows[1796].1, 8);

    let (train, test) = digits().unwrap();
    let (first_image, first_label) = train.sample(0).unwrap();
    assert_eq!(first_image[2], 5.0 / 16.0);
    assert_eq!(first_image[3], 13.0 / 16.0);
    assert_eq!(first_label, 0);
    let (last_image, last_label) = test.sample(359).unwrap();
    assert_eq!(last_image[2], 10.0 / 16.0);
    assert_eq!(last_label, 8);
    assert!(test.sample(360).is_none());

    let all = (0..train.len())
        .map(|i| train.sample(i).unwrap())
        .chain((0..test.len()).map(|i| test.sample(i).unwrap()));
    for (row, ((image, label), (pixels, class))) in all.zip(&rows).enumerate() {
        assert_eq!(label, *class, "row {row}");
        let expected: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 16.0).collect();
        assert_eq!(image, expected.as_slice(), "row {row}");
    }
}

// --------------------------------------------------------------- batches --

#[test]
fn batches_have_the_asked_shapes_and_the_samples_values() {
    let (train, _) = digits().unwrap();
    let device = Device::Cpu;
    let indices = [3, 0, 3, 1436];
    let expected: Vec<f32> = indices
        .iter()
        .flat_map(|&i| train.sample(i).unwrap().0.to_vec())
        .collect();
    let expected_labels: Vec<u32> = indices.iter().map(|&i| train.labels()[i]).collect();

    let (flat, labels) = train.batch(&indices, BatchLayout::Flat, &device).unwrap();
    assert_eq!(flat.dims(), [4, 64]);
    assert_eq!(flat.dtype(), DType::F32);
    assert_eq!(labels.dims(), [4]);
    assert_eq!(labels.dtype(), DType::U32);
    assert_eq!(
        flat.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        expected
    );
    assert_eq!(labels.to_vec1::<u32>().unwrap(), expected_labels);

    let (image, labels) = train.batch(&indices, BatchLayout::Image, &device).unwrap();
    assert_eq!(image.dims(), [4, 1, 8, 8]);
    assert_eq!(labels.to_vec1::<u32>().unwrap(), expected_labels);
    // Row r, column c of image 1 (sample 0) is pixel 8 r + c.
    let sample0 = train.sample(0).unwrap().0;
    let rows = image
        .get(1)
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(row.as_slice(), &sample0[8 * r..8 * r + 8]);
    }

    let (wide, _) = train
        .batch_with_dtype(&indices, BatchLayout::Image, DType::F64, &device)
        .unwrap();
    assert_eq!(wide.dtype(), DType::F64);
    assert_eq!(wide.dims(), [4, 1, 8, 8]);
    let widened: Vec<f64> = expected.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(
        wide.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
        widened
    );

    let (range, range_labels) = train
        .batch_range(10..13, BatchLayout::Flat, DType::F32, &device)
        .unwrap();
    let (same, same_labels) = train
        .batch(&[10, 11, 12], BatchLayout::Flat, &device)
        .unwrap();
    assert_eq!(range.dims(), [3, 64]);
    assert_eq!(
        range.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        same.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    );
    assert_eq!(
        range_labels.to_vec1::<u32>().unwrap(),
        same_labels.to_vec1::<u32>().unwrap()
    );
}

#[test]
fn bad_batch_requests_are_invalid_arguments() {
    let (_, test) = digits().unwrap();
    let device = Device::Cpu;
    fn invalid<T: std::fmt::Debug>(result: opt_models::Result<T>, name: &str) {
        match result {
            Err(ModelError::InvalidArgument { name: got, .. }) => assert_eq!(got, name),
            other => panic!("expected InvalidArgument {name}, got {other:?}"),
        }
    }
    invalid(test.batch(&[], BatchLayout::Flat, &device), "batch indices");
    invalid(
        test.batch(&[0, 360], BatchLayout::Flat, &device),
        "sample index",
    );
    invalid(
        test.batch_with_dtype(&[0], BatchLayout::Flat, DType::U8, &device),
        "dtype",
    );
    invalid(
        test.batch_range(5..5, BatchLayout::Flat, DType::F32, &device),
        "batch range",
    );
    invalid(
        test.batch_range(350..361, BatchLayout::Flat, DType::F32, &device),
        "batch range",
    );
    invalid(test.subset(&[]), "subset indices");
    invalid(test.subset(&[400]), "sample index");
    invalid(test.split_at(0), "split point");
    invalid(test.split_at(360), "split point");
}

#[test]
fn dataset_constructor_subset_and_split() {
    let images: Vec<f32> = (0..12).map(|v| v as f32 / 12.0).collect();
    let set = Dataset::new(images.clone(), vec![0, 2, 1], 3, (1, 2, 2)).unwrap();
    assert_eq!((set.len(), set.feature_len(), set.num_classes()), (3, 4, 3));
    assert!(format!("{set:?}").contains("len: 3"));

    let subset = set.subset(&[2, 0, 2]).unwrap();
    assert_eq!(subset.labels(), [1, 0, 1]);
    assert_eq!(subset.images()[..4], images[8..12]);
    assert_eq!(subset.images()[4..8], images[..4]);
    let (head, tail) = set.split_at(1).unwrap();
    assert_eq!((head.labels(), tail.labels()), (&[0][..], &[2, 1][..]));
    assert_eq!(tail.images(), &images[4..]);

    let error = |result: opt_models::Result<Dataset>| result.unwrap_err();
    assert!(matches!(
        error(Dataset::new(images.clone(), vec![0, 1], 3, (1, 2, 2))),
        ModelError::ShapeMismatch { .. }
    ));
    assert!(matches!(
        error(Dataset::new(images.clone(), vec![0, 3, 1], 3, (1, 2, 2))),
        ModelError::InvalidArgument { name: "labels", .. }
    ));
    assert!(matches!(
        error(Dataset::new(vec![], vec![], 3, (1, 2, 2))),
        ModelError::InvalidArgument { name: "labels", .. }
    ));
    assert!(matches!(
        error(Dataset::new(images.clone(), vec![0, 0, 0], 1, (1, 2, 2))),
        ModelError::InvalidArgument {
            name: "num_classes",
            ..
        }
    ));
    assert!(matches!(
        error(Dataset::new(vec![], vec![0], 2, (1, 0, 2))),
        ModelError::InvalidArgument {
            name: "image shape",
            ..
        }
    ));
    assert!(matches!(
        error(Dataset::new(vec![], vec![0], 2, (usize::MAX, 2, 2))),
        ModelError::InvalidArgument {
            name: "image shape",
            ..
        }
    ));
    let mut nan = images;
    nan[5] = f32::NAN;
    let message = error(Dataset::new(nan, vec![0, 0, 0], 2, (1, 2, 2))).to_string();
    assert!(message.contains("pixel 1 of image 1"), "{message}");
}

// ------------------------------------------------------------------- IDX --

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("opt-models-data-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn idx_images_bytes(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = IDX_IMAGES_MAGIC.to_be_bytes().to_vec();
    for dim in [count, rows, cols] {
        bytes.extend_from_slice(&dim.to_be_bytes());
    }
    bytes.extend_from_slice(pixels);
    bytes
}

fn idx_labels_bytes(labels: &[u8]) -> Vec<u8> {
    let mut bytes = IDX_LABELS_MAGIC.to_be_bytes().to_vec();
    bytes.extend_from_slice(&u32::try_from(labels.len()).unwrap().to_be_bytes());
    bytes.extend_from_slice(labels);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `count` images of `rows x cols` pixels, 0 and 255 among them.
fn test_pixels(count: usize, rows: usize, cols: usize, seed: usize) -> Vec<u8> {
    let mut pixels: Vec<u8> = (0..count * rows * cols)
        .map(|i| ((i * 37 + seed * 11) % 256) as u8)
        .collect();
    pixels[0] = 0;
    pixels[1] = 255;
    pixels
}

const TRAIN_LABELS: [u8; 5] = [0, 9, 3, 3, 7];
const TEST_LABELS: [u8; 3] = [5, 1, 9];

/// Write the four standard files of a small set (train 5 images of 3 x 4,
/// test 3), gzipped or not. Returns the train and test pixels.
fn write_idx_dir(dir: &TempDir, gzipped: bool) -> (Vec<u8>, Vec<u8>) {
    let train_pixels = test_pixels(5, 3, 4, 0);
    let test_pixels = test_pixels(3, 3, 4, 1);
    let files = [
        (
            "train-images-idx3-ubyte",
            idx_images_bytes(5, 3, 4, &train_pixels),
        ),
        ("train-labels-idx1-ubyte", idx_labels_bytes(&TRAIN_LABELS)),
        (
            "t10k-images-idx3-ubyte",
            idx_images_bytes(3, 3, 4, &test_pixels),
        ),
        ("t10k-labels-idx1-ubyte", idx_labels_bytes(&TEST_LABELS)),
    ];
    for (name, bytes) in files {
        if gzipped {
            std::fs::write(dir.path(&format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.path(name), bytes).unwrap();
        }
    }
    (train_pixels, test_pixels)
}

fn check_round_trip(dir: &TempDir, train_pixels: &[u8], test_pixels: &[u8]) {
    let (train, test) = load_idx_dir(&dir.0).unwrap();
    for (set, pixels, labels) in [
        (&train, train_pixels, &TRAIN_LABELS[..]),
        (&test, test_pixels, &TEST_LABELS[..]),
    ] {
        assert_eq!(set.len(), labels.len());
        assert_eq!(set.image_shape(), (1, 3, 4));
        assert_eq!(set.num_classes(), 10);
        let expected: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        assert_eq!(set.images(), expected.as_slice());
        let labels: Vec<u32> = labels.iter().map(|&y| u32::from(y)).collect();
        assert_eq!(set.labels(), labels.as_slice());
    }
    assert!(train.images().contains(&0.0) && train.images().contains(&1.0));
}

#[test]
fn idx_files_round_trip_plain() {
    let dir = TempDir::new("plain");
    let (train_pixels, test_pixels) = write_idx_dir(&dir, false);
    let images = load_idx_images(&dir.path("train-images-idx3-ubyte")).unwrap();
    assert_eq!(
        images,
        IdxImages {
            count: 5,
            rows: 3,
            cols: 4,
            pixels: train_pixels.clone()
        }
    );
    assert_eq!(
        load_idx_labels(&dir.path("t10k-labels-idx1-ubyte")).unwrap(),
        TEST_LABELS
    );
    check_round_trip(&dir, &train_pixels, &test_pixels);
}

#[test]
fn idx_files_round_trip_gzipped() {
    let dir = TempDir::new("gzipped");
    let (train_pixels, test_pixels) = write_idx_dir(&dir, true);
    let images = load_idx_images(&dir.path("t10k-images-idx3-ubyte.gz")).unwrap();
    assert_eq!((images.count, images.rows, images.cols), (3, 3, 4));
    assert_eq!(images.pixels, test_pixels);
    check_round_trip(&dir, &train_pixels, &test_pixels);
}

#[test]
fn idx_batches_are_images_of_the_file_shape() {
    let dir = TempDir::new("batch");
    write_idx_dir(&dir, false);
    let (train, _) = load_idx_dir(&dir.0).unwrap();
    let (images, labels) = train
        .batch(&[4, 1], BatchLayout::Image, &Device::Cpu)
        .unwrap();
    assert_eq!(images.dims(), [2, 1, 3, 4]);
    assert_eq!(labels.to_vec1::<u32>().unwrap(), [7, 9]);
}

/// The error's variant is `Malformed`, its file is `path` and its message
/// contains `needle`.
fn assert_malformed(error: ModelError, path: &Path, needle: &str) {
    let message = error.to_string();
    match &error {
        ModelError::Malformed { file, reason } => {
            assert_eq!(file, &path.display().to_string(), "{message}");
            assert!(reason.contains(needle), "`{needle}` not in: {message}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert!(message.contains(&path.display().to_string()));
}

#[test]
fn idx_wrong_magic_says_what_was_found_and_expected() {
    let dir = TempDir::new("magic");
    let labels_path = dir.path("labels");
    std::fs::write(&labels_path, idx_labels_bytes(&[1, 2])).unwrap();
    assert_malformed(
        load_idx_images(&labels_path).unwrap_err(),
        &labels_path,
        "wrong magic number 0x00000801 (that is an IDX labels file), expected 0x00000803",
    );
    let images_path = dir.path("images");
    std::fs::write(&images_path, idx_images_bytes(1, 1, 1, &[0])).unwrap();
    assert_malformed(
        load_idx_labels(&images_path).unwrap_err(),
        &images_path,
        "wrong magic number 0x00000803 (that is an IDX images file), expected 0x00000801",
    );
    let text_path = dir.path("text.gz");
    std::fs::write(&text_path, b"not an IDX file").unwrap();
    assert_malformed(
        load_idx_labels(&text_path).unwrap_err(),
        &text_path,
        "wrong magic number 0x6e6f7420, expected 0x00000801",
    );
    // Also inside a gzip stream.
    let gz_path = dir.path("labels.gz");
    std::fs::write(&gz_path, gzip(&idx_labels_bytes(&[1]))).unwrap();
    assert_malformed(
        load_idx_images(&gz_path).unwrap_err(),
        &gz_path,
        "wrong magic number 0x00000801",
    );
}

#[test]
fn idx_truncated_and_overlong_files_are_malformed() {
    let dir = TempDir::new("lengths");
    let full = idx_images_bytes(2, 3, 4, &test_pixels(2, 3, 4, 0));
    let path = dir.path("images");
    let write = |bytes: &[u8]| std::fs::write(&path, bytes).unwrap();

    write(&[]);
    assert_malformed(
        load_idx_images(&path).unwrap_err(),
        &path,
        "truncated header: 0 bytes",
    );
    write(&full[..10]);
    assert_malformed(
        load_idx_images(&path).unwrap_err(),
        &path,
        "truncated header: 10 bytes, expected 16 (IDX images: unsigned bytes, 3 dimensions)",
    );
    write(&full[..full.len() - 1]);
    assert_malformed(
        load_idx_images(&path).unwrap_err(),
        &path,
        "truncated data: 23 bytes after the header, the dimensions [2, 3, 4] need 24",
    );
    let mut longer = full.clone();
    longer.push(0);
    write(&longer);
    assert_malformed(load_idx_images(&path).unwrap_err(), &path, "trailing bytes");

    // Huge dimensions in a small file: an error, no allocation of their size.
    write(&idx_images_bytes(u32::MAX, 65_535, 65_535, &[1, 2, 3]));
    assert_malformed(
        load_idx_images(&path).unwrap_err(),
        &path,
        "truncated data: 3 bytes",
    );

    // The same defects inside gzip streams.
    let gz_path = dir.path("images.gz");
    std::fs::write(&gz_path, gzip(&full[..full.len() - 5])).unwrap();
    assert_malformed(
        load_idx_images(&gz_path).unwrap_err(),
        &gz_path,
        "truncated data",
    );
    std::fs::write(&gz_path, gzip(&longer)).unwrap();
    assert_malformed(
        load_idx_images(&gz_path).unwrap_err(),
        &gz_path,
        "trailing bytes",
    );

    let labels_path = dir.path("labels");
    std::fs::write(&labels_path, &idx_labels_bytes(&[1, 2, 3])[..10]).unwrap();
    assert_malformed(
        load_idx_labels(&labels_path).unwrap_err(),
        &labels_path,
        "truncated data: 2 bytes after the header, the dimensions [3] need 3",
    );
}

#[test]
fn idx_corrupt_gzip_stream_is_malformed() {
    let dir = TempDir::new("corrupt-gzip");
    let path = dir.path("train-labels-idx1-ubyte.gz");
    let good = gzip(&idx_labels_bytes(&[1, 2, 3, 4, 5, 6, 7, 8]));
    // CRC-32 of the data (the trailer's first 4 bytes) changed.
    let mut bad_crc = good.clone();
    let crc = bad_crc.len() - 8;
    bad_crc[crc] ^= 0xff;
    std::fs::write(&path, &bad_crc).unwrap();
    assert_malformed(
        load_idx_labels(&path).unwrap_err(),
        &path,
        "corrupt gzip stream",
    );
    // The stream cut short: an error of the decoder or missing data.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    assert!(matches!(
        load_idx_labels(&path).unwrap_err(),
        ModelError::Malformed { .. }
    ));
    // Garbage after the gzip member.
    let mut garbage = good;
    garbage.extend_from_slice(b"garbage");
    std::fs::write(&path, &garbage).unwrap();
    assert_malformed(
        load_idx_labels(&path).unwrap_err(),
        &path,
        "corrupt gzip stream",
    );
}

#[test]
fn idx_label_problems_name_the_files() {
    let dir = TempDir::new("labels");
    let images = dir.path("images");
    let labels = dir.path("labels");
    std::fs::write(&images, idx_images_bytes(3, 2, 2, &test_pixels(3, 2, 2, 0))).unwrap();

    std::fs::write(&labels, idx_labels_bytes(&[1, 2])).unwrap();
    let error = load_idx_pair(&images, &labels).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ModelError::ShapeMismatch { .. }),
        "{message}"
    );
    assert!(
        message.contains(&images.display().to_string())
            && message.contains(&labels.display().to_string())
            && message.contains("expected 3 labels (one per image), got 2 labels"),
        "{message}"
    );

    std::fs::write(&labels, idx_labels_bytes(&[1, 10, 2])).unwrap();
    assert_malformed(
        load_idx_pair(&images, &labels).unwrap_err(),
        &labels,
        "label 10 of item 1 is not a class in 0..10",
    );

    // No images at all.
    std::fs::write(&images, idx_images_bytes(0, 2, 2, &[])).unwrap();
    std::fs::write(&labels, idx_labels_bytes(&[])).unwrap();
    assert_malformed(
        load_idx_pair(&images, &labels).unwrap_err(),
        &images,
        "no images",
    );
}

#[test]
fn idx_missing_files_list_the_names_looked_for() {
    let dir = TempDir::new("missing");
    write_idx_dir(&dir, true);
    std::fs::remove_file(dir.path("train-labels-idx1-ubyte.gz")).unwrap();
    let error = load_idx_dir(&dir.0).unwrap_err();
    let message = error.to_string();
    match &error {
        ModelError::Io { file, source } => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            assert_eq!(
                file,
                &dir.path("train-labels-idx1-ubyte").display().to_string()
            );
        }
        other => panic!("expected Io, got {other:?}"),
    }
    for name in [
        "train-labels-idx1-ubyte,",
        "train-labels-idx1-ubyte.gz",
        "train-labels.idx1-ubyte",
    ] {
        assert!(message.contains(name), "{message}");
    }

    let nowhere = dir.path("no-such-directory");
    let message = load_idx_dir(&nowhere).unwrap_err().to_string();
    assert!(
        message.contains("train-images-idx3-ubyte") && message.contains("does not exist"),
        "{message}"
    );

    let missing = dir.path("absent-images");
    match load_idx_images(&missing).unwrap_err() {
        ModelError::Io { file, source } => {
            assert_eq!(file, missing.display().to_string());
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn idx_alternative_names_and_mixed_compression_are_found() {
    let dir = TempDir::new("names");
    write_idx_dir(&dir, false);
    // A mirror's spelling, gzipped, for one file; plain for the others.
    let bytes = std::fs::read(dir.path("t10k-images-idx3-ubyte")).unwrap();
    std::fs::remove_file(dir.path("t10k-images-idx3-ubyte")).unwrap();
    std::fs::write(dir.path("t10k-images.idx3-ubyte.gz"), gzip(&bytes)).unwrap();
    let (_, test) = load_idx_dir(&dir.0).unwrap();
    assert_eq!(test.len(), 3);
    assert_eq!(
        test.images()[..4],
        test_pixels(3, 3, 4, 1)[..4]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect::<Vec<_>>()
    );
}

#[test]
fn idx_train_and_test_of_different_sizes_are_a_shape_mismatch() {
    let dir = TempDir::new("sizes");
    write_idx_dir(&dir, false);
    std::fs::write(
        dir.path("t10k-images-idx3-ubyte"),
        idx_images_bytes(3, 4, 3, &test_pixels(3, 4, 3, 1)),
    )
    .unwrap();
    let error = load_idx_dir(&dir.0).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ModelError::ShapeMismatch { .. }),
        "{message}"
    );
    assert!(
        message.contains("t10k-images-idx3-ubyte") && message.contains("(1, 4, 3)"),
        "{message}"
    );
}

// --------------------------------------------------------------- sha-256 --

/// SHA-256 (FIPS 180-4) of `data` as lowercase hex, for the digits check.
fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut state: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0_u32; 64];
        for (t, word) in block.chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for t in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choose = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(choose)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(majority);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (word, add) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *word = word.wrapping_add(add);
        }
    }
    state.iter().map(|word| format!("{word:08x}")).collect()
}

#[test]
fn sha256_matches_the_standard_test_vectors() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Two blocks of padding (FIPS 180-4 example).
    assert_eq!(
        sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

//! Distances between f32 or f64 vectors, as RediSearch reports them: L2 is the squared Euclidean
//! distance, IP is `1 - dot`, COSINE is `1 - cos`. COSINE vectors are normalised once (at
//! insert and for the query), so their distance is `1 - dot` too. The kernels are simsimd's;
//! a scalar loop covers the cases simsimd declines.
//!
//! A zero vector cannot be normalised and stays zero: its COSINE distance to anything is 1
//! (no similarity), which is also what `1 - dot` gives.
//!
//! Must not depend on anything outside this file.

use std::cmp::Ordering;

use simsimd::SpatialSimilarity;

use crate::search::Metric;

/// A vector component type distances are computed in: f32 (every index; FLOAT64 indexes use
/// it to navigate their graph) and f64 (the distances FLOAT64 indexes report and compare with
/// a radius: RediSearch computes FLOAT64 in double). A distance has its vectors' type.
pub trait Element: Copy + PartialOrd + Send + Sync + 'static {
    /// See [`distance`].
    fn distance(metric: Metric, a: &[Self], b: &[Self]) -> Self;
    /// See [`normalise`].
    fn normalise(v: &mut [Self]);
    fn total_cmp(&self, other: &Self) -> Ordering;
    fn to_f64(self) -> f64;
}

macro_rules! element {
    ($t:ty) => {
        impl Element for $t {
            #[inline]
            fn distance(metric: Metric, a: &[$t], b: &[$t]) -> $t {
                let d = match metric {
                    Metric::L2 => <$t as SpatialSimilarity>::sqeuclidean(a, b).map_or_else(
                        || a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
                        |d| d as $t,
                    ),
                    Metric::Ip | Metric::Cosine => {
                        1.0 - <$t as SpatialSimilarity>::dot(a, b)
                            .map_or_else(|| a.iter().zip(b).map(|(x, y)| x * y).sum(), |d| d as $t)
                    }
                };
                if d.is_nan() { <$t>::INFINITY } else { d }
            }

            fn normalise(v: &mut [$t]) {
                let norm = v.iter().map(|x| x * x).sum::<$t>().sqrt();
                if norm > 0.0 && norm.is_finite() {
                    let inv = 1.0 / norm;
                    v.iter_mut().for_each(|x| *x *= inv);
                }
            }

            fn total_cmp(&self, other: &$t) -> Ordering {
                <$t>::total_cmp(self, other)
            }

            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

element!(f32);
element!(f64);

/// The distance between `a` and `b` (same length) under `metric`, in their own precision;
/// for COSINE both must already be normalised by [`normalise`]. NaN (from NaN or infinite
/// components) is reported as +inf, so every ordering of distances stays total and such
/// vectors sort last.
#[inline]
pub fn distance<T: Element>(metric: Metric, a: &[T], b: &[T]) -> T {
    T::distance(metric, a, b)
}

/// Scales `v` to unit length in place; a zero (or non-finite norm) vector is left as is.
pub fn normalise<T: Element>(v: &mut [T]) {
    T::normalise(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        normalise(&mut a);
        normalise(&mut b);
        distance(Metric::Cosine, &a, &b)
    }

    #[test]
    fn cosine_pins() {
        assert_eq!(cos(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cos(&[1.0, 0.0], &[-1.0, 0.0]), 2.0);
        assert_eq!(cos(&[3.0, 0.0], &[0.0, 5.0]), 1.0);
        assert!((cos(&[1.0, 1.0], &[2.0, 2.0])).abs() < 1e-6);
    }

    #[test]
    fn cosine_zero_vector_is_distance_one() {
        assert_eq!(cos(&[0.0, 0.0], &[1.0, 0.0]), 1.0);
        assert_eq!(cos(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
        let mut z = [0.0f32; 3];
        normalise(&mut z);
        assert_eq!(z, [0.0; 3]);
    }

    #[test]
    fn l2_and_ip_pins() {
        assert_eq!(distance(Metric::L2, &[1.0, 2.0], &[4.0, 6.0]), 25.0);
        assert_eq!(distance(Metric::L2, &[1.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(distance(Metric::Ip, &[1.0, 2.0], &[3.0, 4.0]), 1.0 - 11.0);
        assert_eq!(distance(Metric::Ip, &[1.0, 0.0], &[0.0, 1.0]), 1.0);
        assert_eq!(distance(Metric::Ip, &[1.0, 0.0], &[-1.0, 0.0]), 2.0);
    }

    #[test]
    fn long_vectors_match_scalar() {
        let a: Vec<f32> = (0..384).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..384).map(|i| (i as f32 * 0.11).cos()).collect();
        let l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((distance(Metric::L2, &a, &b) - l2).abs() < 1e-3);
        assert!((distance(Metric::Ip, &a, &b) - (1.0 - dot)).abs() < 1e-3);
    }

    #[test]
    fn nan_sorts_last() {
        assert_eq!(distance(Metric::L2, &[f32::NAN], &[1.0]), f32::INFINITY);
        assert_eq!(
            distance(Metric::Ip, &[f32::INFINITY, 1.0], &[0.0, 1.0]),
            f32::INFINITY
        );
    }
}

//! Distances between f32 vectors, as RediSearch reports them: L2 is the squared Euclidean
//! distance, IP is `1 - dot`, COSINE is `1 - cos`. COSINE vectors are normalised once (at
//! insert and for the query), so their distance is `1 - dot` too. The kernels are simsimd's;
//! a scalar loop covers the cases simsimd declines.
//!
//! A zero vector cannot be normalised and stays zero: its COSINE distance to anything is 1
//! (no similarity), which is also what `1 - dot` gives.
//!
//! Must not depend on anything outside this file.

use simsimd::SpatialSimilarity;

use crate::search::Metric;

/// The distance between `a` and `b` (same length) under `metric`; for COSINE both must
/// already be normalised by [`normalise`]. NaN (from NaN or infinite components) is reported
/// as +inf, so every ordering of distances stays total and such vectors sort last.
#[inline]
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    let d = match metric {
        Metric::L2 => f32::sqeuclidean(a, b).map_or_else(|| scalar_l2(a, b), |d| d as f32),
        Metric::Ip | Metric::Cosine => {
            1.0 - f32::dot(a, b).map_or_else(|| scalar_dot(a, b), |d| d as f32)
        }
    };
    if d.is_nan() { f32::INFINITY } else { d }
}

/// Scales `v` to unit length in place; a zero (or non-finite norm) vector is left as is.
pub fn normalise(v: &mut [f32]) {
    let norm = scalar_dot(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        let inv = 1.0 / norm;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

fn scalar_dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn scalar_l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
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
        assert!((distance(Metric::L2, &a, &b) - scalar_l2(&a, &b)).abs() < 1e-3);
        assert!((distance(Metric::Ip, &a, &b) - (1.0 - scalar_dot(&a, &b))).abs() < 1e-3);
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

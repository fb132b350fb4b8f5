//! The statistics of A/B tests: the Wilson score interval of a proportion
//! and the two-sided two-proportion z-test, over our own error function.

/// The 97.5% quantile of the standard normal distribution: a 95% two-sided
/// interval is ±this many standard errors.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// The complementary error function, to about 1e-15 absolute: the Taylor
/// series of erf below 2 (its terms stay small enough there that rounding
/// does not matter), and the continued fraction of erfc above (which
/// converges fast for large arguments, where 1 - erf would cancel).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut term = x; // (-1)^n x^(2n+1) / n!
        let mut sum = x;
        let x2 = x * x;
        for n in 1..200 {
            term *= -x2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
    }
    // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    // evaluated from the tail up; 60 terms are plenty for x >= 2.
    let mut f = x;
    for k in (1..60).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// The standard normal distribution function Φ(z).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The Wilson score interval at 95% for `successes` out of `trials`:
/// (low, high). With no trials, (0, 1): nothing is known.
pub fn wilson_interval(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z_95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// The two-sided two-proportion z-test with a pooled variance: (z, p-value)
/// for the difference of `x2/n2` from `x1/n1`. When the pooled rate is 0 or
/// 1 (or a group is empty) there is no evidence of a difference: (0, 1).
pub fn two_proportion_p_value(x1: u64, n1: u64, x2: u64, n2: u64) -> (f64, f64) {
    if n1 == 0 || n2 == 0 {
        return (0.0, 1.0);
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (x2 as f64 / n2f - x1 as f64 / n1f) / se;
    (z, erfc(z.abs() / std::f64::consts::SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_tables() {
        // Values from Abramowitz & Stegun table 7.1 and Python's math.erfc.
        assert!((erfc(0.0) - 1.0).abs() < 1e-15);
        assert!((erfc(0.5) - 0.479_500_122_186_953_5).abs() < 1e-14);
        assert!((erfc(1.0) - 0.157_299_207_050_285_1).abs() < 1e-14);
        assert!((erfc(2.9) - 4.109_787_809_945_886e-5).abs() < 1e-14);
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-14);
        assert!((erfc(5.0) / 1.537_459_794_428_035e-12 - 1.0).abs() < 1e-10);
        assert!((erfc(-1.0) - 1.842_700_792_949_715).abs() < 1e-14);
        assert!((normal_cdf(Z_95) - 0.975).abs() < 1e-12);
    }

    #[test]
    fn wilson_by_hand() {
        // 50 of 100: p = .5, z^2 = 3.8415; center .5; half = 1.96/1.038415
        // * sqrt(.0025 + 3.8415/40000) = 0.0961... -> (0.4038, 0.5962).
        let (lo, hi) = wilson_interval(50, 100);
        assert!((lo - 0.403_831_7).abs() < 1e-6, "{lo}");
        assert!((hi - 0.596_168_3).abs() < 1e-6, "{hi}");
        // 0 of 10: lower bound 0, upper z^2/(n+z^2) = 3.8415/13.8415.
        let (lo, hi) = wilson_interval(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.277_532_6).abs() < 1e-6, "{hi}");
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    #[test]
    fn z_test_by_hand() {
        // 100/1000 vs 130/1000: pooled .115, se = sqrt(.115*.885*.002)
        // = 0.014267; z = .03/.014267 = 2.1028; p = erfc(2.1028/sqrt 2)
        // = 0.03548 (scipy.stats.norm.sf(2.1028)*2).
        let (z, p) = two_proportion_p_value(100, 1000, 130, 1000);
        assert!((z - 2.102_75).abs() < 1e-4, "{z}");
        assert!((p - 0.035_49).abs() < 1e-4, "{p}");
        let (z2, p2) = two_proportion_p_value(130, 1000, 100, 1000);
        assert!((z2 + z).abs() < 1e-12 && (p2 - p).abs() < 1e-12);
        assert_eq!(two_proportion_p_value(0, 10, 0, 20), (0.0, 1.0));
        assert_eq!(two_proportion_p_value(0, 0, 1, 2), (0.0, 1.0));
    }
}

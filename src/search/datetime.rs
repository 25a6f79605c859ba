//! UTC calendar arithmetic for the expression language's time functions (`timefmt`,
//! `parsetime`, `day`, `month`, `year`, ...): Unix seconds to civil date and back, and the
//! `strftime` / `strptime` conversions RediSearch's functions use, for the common
//! conversions (`%Y %m %d %H %M %S %j %y %e %F %T %s %a %A %b %B %h %%`).

/// A UTC civil time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    pub fn from_unix(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    pub fn to_unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// 0 = Sunday.
    pub fn weekday(&self) -> u32 {
        (days_from_civil(self.year, self.month, self.day) + 4).rem_euclid(7) as u32
    }

    /// 0 = January 1st.
    pub fn day_of_year(&self) -> u32 {
        (days_from_civil(self.year, self.month, self.day) - days_from_civil(self.year, 1, 1)) as u32
    }

    /// `strftime(fmt)`; an unknown conversion is written as it is.
    pub fn format(&self, fmt: &str) -> String {
        let written: Result<String, std::convert::Infallible> =
            expand_conversions(fmt, |conversion, out| {
                match conversion {
                    Some('Y') => out.push_str(&self.year.to_string()),
                    Some('y') => out.push_str(&format!("{:02}", self.year.rem_euclid(100))),
                    Some('m') => out.push_str(&format!("{:02}", self.month)),
                    Some('d') => out.push_str(&format!("{:02}", self.day)),
                    Some('e') => out.push_str(&format!("{:2}", self.day)),
                    Some('H') => out.push_str(&format!("{:02}", self.hour)),
                    Some('M') => out.push_str(&format!("{:02}", self.minute)),
                    Some('S') => out.push_str(&format!("{:02}", self.second)),
                    Some('j') => out.push_str(&format!("{:03}", self.day_of_year() + 1)),
                    Some('F') => out.push_str(&self.format("%Y-%m-%d")),
                    Some('T') => out.push_str(&self.format("%H:%M:%S")),
                    Some('s') => out.push_str(&self.to_unix().to_string()),
                    Some('a') => out.push_str(&DAYS[self.weekday() as usize][..3]),
                    Some('A') => out.push_str(DAYS[self.weekday() as usize]),
                    Some('b' | 'h') => out.push_str(&MONTHS[self.month as usize - 1][..3]),
                    Some('B') => out.push_str(MONTHS[self.month as usize - 1]),
                    Some('%') => out.push('%'),
                    Some(other) => {
                        out.push('%');
                        out.push(other);
                    }
                    None => out.push('%'),
                }
                Ok(())
            });
        written.unwrap_or_default()
    }

    /// `strptime(text, fmt)` for the numeric conversions; `None` when `text` does not match.
    pub fn parse(text: &str, fmt: &str) -> Option<Civil> {
        let mut t = Civil {
            year: 1900,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
        let mut rest = text;
        let mut chars = fmt.chars();
        // Reads up to `max` digits (with a leading sign for years).
        fn number(rest: &mut &str, max: usize, signed: bool) -> Option<i64> {
            let s = rest.trim_start();
            let sign = usize::from(signed && s.starts_with(['-', '+']));
            let digits = s[sign..]
                .bytes()
                .take(max)
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 {
                return None;
            }
            let value = s[..sign + digits].parse().ok()?;
            *rest = &s[sign + digits..];
            Some(value)
        }
        let small = |v: i64, lo: i64, hi: i64| (lo..=hi).contains(&v).then_some(v as u32);
        while let Some(c) = chars.next() {
            if c != '%' {
                if c.is_whitespace() {
                    rest = rest.trim_start();
                } else {
                    rest = rest.strip_prefix(c)?;
                }
                continue;
            }
            match chars.next()? {
                'Y' => t.year = number(&mut rest, 4, true)?,
                'm' => t.month = small(number(&mut rest, 2, false)?, 1, 12)?,
                'd' | 'e' => t.day = small(number(&mut rest, 2, false)?, 1, 31)?,
                'H' => t.hour = small(number(&mut rest, 2, false)?, 0, 23)?,
                'M' => t.minute = small(number(&mut rest, 2, false)?, 0, 59)?,
                'S' => t.second = small(number(&mut rest, 2, false)?, 0, 60)?,
                'F' => t = Civil::parse_into(t, &mut rest, "%Y-%m-%d")?,
                'T' => t = Civil::parse_into(t, &mut rest, "%H:%M:%S")?,
                's' => {
                    let secs = number(&mut rest, 20, true)?;
                    t = Civil::from_unix(secs);
                }
                '%' => rest = rest.strip_prefix('%')?,
                _ => return None,
            }
        }
        Some(t)
    }

    /// Parses `fmt` at the start of `rest` over the fields of `t`, advancing `rest`.
    fn parse_into(t: Civil, rest: &mut &str, fmt: &str) -> Option<Civil> {
        // The sub-format's fields are all numeric and fixed: parse the prefix it spans.
        let len = rest
            .char_indices()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '-' || *c == ':')
            .count();
        let parsed = Civil::parse(&rest[..len], fmt)?;
        *rest = &rest[len..];
        Some(if fmt.contains('Y') {
            Civil {
                hour: t.hour,
                minute: t.minute,
                second: t.second,
                ..parsed
            }
        } else {
            Civil {
                year: t.year,
                month: t.month,
                day: t.day,
                ..parsed
            }
        })
    }
}

/// Copies `fmt`, handing each `%` conversion (the character after `%`, `None` at the end)
/// to `conversion`, which writes its expansion: the walk `strftime` and `format()` share.
pub fn expand_conversions<E>(
    fmt: &str,
    mut conversion: impl FnMut(Option<char>, &mut String) -> Result<(), E>,
) -> Result<String, E> {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            conversion(chars.next(), &mut out)?;
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_calendar_fields() {
        for secs in [0, 86_399, 951_782_400, 1_700_000_000, -1, 4_102_444_800] {
            assert_eq!(Civil::from_unix(secs).to_unix(), secs);
        }
        let t = Civil::from_unix(1_700_000_000);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2023, 11, 14, 22, 13, 20)
        );
        assert_eq!(t.weekday(), 2);
        assert_eq!(t.day_of_year(), 317);
        assert_eq!(Civil::from_unix(951_782_400).format("%F"), "2000-02-29");
    }

    #[test]
    fn strftime_and_strptime() {
        let t = Civil::from_unix(1_700_000_000);
        assert_eq!(t.format("%FT%TZ"), "2023-11-14T22:13:20Z");
        assert_eq!(
            t.format("%a %b %e %j %y %% %s %q"),
            "Tue Nov 14 318 23 % 1700000000 %q"
        );
        assert_eq!(
            Civil::parse("2023-11-14T22:13:20Z", "%FT%TZ").map(|c| c.to_unix()),
            Some(1_700_000_000)
        );
        assert_eq!(
            Civil::parse("14/11/2023", "%d/%m/%Y").map(|c| c.to_unix()),
            Some(1_699_920_000)
        );
        assert_eq!(Civil::parse("2023-13-01", "%Y-%m-%d"), None);
        assert_eq!(Civil::parse("x", "%Y"), None);
    }
}

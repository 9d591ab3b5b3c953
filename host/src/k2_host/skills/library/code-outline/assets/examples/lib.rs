use std::collections::HashMap;

/// A price in cents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cents(pub u64);

pub enum Discount {
    Percent(u8),
    Fixed(Cents),
}

pub trait Priced {
    fn price(&self) -> Cents;
}

pub struct Cart<'a> {
    lines: HashMap<&'a str, u32>,
}

impl<'a> Cart<'a> {
    pub fn new() -> Self {
        Cart { lines: HashMap::new() }
    }

    pub fn add(&mut self, sku: &'a str, qty: u32) {
        *self.lines.entry(sku).or_insert(0) += qty;
    }
}

impl Priced for Cents {
    fn price(&self) -> Cents {
        *self
    }
}

pub fn apply(total: Cents, d: &Discount) -> Cents {
    match d {
        Discount::Percent(p) => Cents(total.0 * (100 - *p as u64) / 100),
        Discount::Fixed(c) => Cents(total.0.saturating_sub(c.0)),
    }
}

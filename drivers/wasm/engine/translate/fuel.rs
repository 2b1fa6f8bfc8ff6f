// SPDX-License-Identifier: GPL-2.0

//! Fuel regions: the translator cuts the code into regions, each paid for in advance by
//! one `Fuel` instruction or by the branch that enters it, with its total weight (see
//! [`crate::ir`]).

use super::forms::branch_cost;
use super::{internal, try_push, Translator, NONE};
use crate::error::Error;
use crate::ir::{Op, MAX_REGION_WEIGHT};

/// The most regions one payment covers: a region, the first region of the loop it falls into,
/// and so on for loops nested right inside (see `Translator::new_loop_region`). Each is at
/// most about [`MAX_REGION_WEIGHT`], so one payment stays small against the interrupt
/// interval.
const MAX_PAYERS: u32 = 4;

#[derive(Clone, Copy, Debug)]
pub(super) struct Region {
    /// The `Fuel` instruction that starts it, `NONE` for the function's first region and for
    /// a loop paid by the region before it (`payer`).
    pub(super) anchor: u32,
    /// The region whose entry pays for this one too, or `NONE` (see `new_loop_region`).
    pub(super) payer: u32,
    pub(super) weight: u32,
    pub(super) closed: bool,
    /// First branch whose cost is this region's weight (index into `cost_links`), or `NONE`.
    pub(super) cost_head: u32,
}

impl Translator<'_> {
    /// Starts a new region when the current one has paid for enough straight-line code.
    pub(super) fn maybe_new_region(&mut self) -> Result<(), Error> {
        let weight = self
            .regions
            .get(self.region as usize)
            .map_or(0, |r| r.weight);
        if weight >= MAX_REGION_WEIGHT {
            self.new_region()?;
        }
        Ok(())
    }

    /// Ends the current region and starts one with a `Fuel` instruction.
    pub(super) fn new_region(&mut self) -> Result<(), Error> {
        let closing = self.region;
        self.close_region(closing)?;
        let anchor = self.pc();
        self.ops.try_reserve(1)?;
        self.offsets.try_reserve(1)?;
        self.ops.push(Op::Fuel { cost: 0 });
        self.offsets.push(self.offset);
        self.start_region(anchor, NONE)
    }

    /// Makes a new region the running one; nothing fuses across its start.
    fn start_region(&mut self, anchor: u32, payer: u32) -> Result<(), Error> {
        try_push(
            &mut self.regions,
            Region {
                anchor,
                payer,
                weight: 0,
                closed: false,
                cost_head: NONE,
            },
        )?;
        self.region = self.regions.len() as u32 - 1;
        self.fuse_floor = self.ops.len();
        Ok(())
    }

    /// Starts the region of a loop header. The loop's first region needs no `Fuel`
    /// instruction: the running region pays for it too. Whatever enters the running region
    /// reaches the loop's entry at most once before it pays again (a branch out of it may
    /// skip the loop, as it skips the rest of the region, which was paid too). The running
    /// region stays open until the loop's region closes (see `close_region`), and may itself
    /// be a loop's first region paid by the region before it: for nested loops the chain of
    /// payers is at most [`MAX_PAYERS`] long, which bounds what one payment covers. The
    /// loop's back-edges still pay for the loop's region alone (with the loops it pays for).
    /// This saves an instruction on every entry into a loop.
    pub(super) fn new_loop_region(&mut self) -> Result<(), Error> {
        let id = self.region;
        // The running region and those that pay for it.
        let mut payers = 1;
        let mut r = id;
        while payers < MAX_PAYERS {
            match self.regions.get(r as usize) {
                Some(&Region { payer, .. }) if payer != NONE => r = payer,
                _ => break,
            }
            payers += 1;
        }
        if payers >= MAX_PAYERS {
            return self.new_region();
        }
        self.start_region(NONE, id)
    }

    pub(super) fn close_region(&mut self, id: u32) -> Result<(), Error> {
        let region = *self
            .regions
            .get(id as usize)
            .ok_or_else(|| internal("region"))?;
        self.close_one(id)?;
        // The regions before the loop pay for it on entry: they close now, each with the
        // weights of those it pays for.
        let (mut id, mut weight) = (region.payer, region.weight);
        for _ in 0..MAX_PAYERS {
            if id == NONE {
                break;
            }
            let payer = self
                .regions
                .get_mut(id as usize)
                .ok_or_else(|| internal("region"))?;
            payer.weight = payer.weight.saturating_add(weight);
            weight = payer.weight;
            let next = payer.payer;
            self.close_one(id)?;
            id = next;
        }
        Ok(())
    }

    /// Writes region `id`'s weight into its `Fuel` instruction and the branches that pay
    /// for it.
    fn close_one(&mut self, id: u32) -> Result<(), Error> {
        let region = *self
            .regions
            .get(id as usize)
            .ok_or_else(|| internal("region"))?;
        let weight = region.weight;
        if region.anchor != NONE {
            if let Some(Op::Fuel { cost }) = self.ops.get_mut(region.anchor as usize) {
                *cost = weight;
            }
        }
        let mut link = region.cost_head;
        while link != NONE {
            let (op, next) = *self
                .cost_links
                .get(link as usize)
                .ok_or_else(|| internal("cost link"))?;
            self.set_cost(op, weight)?;
            link = next;
        }
        if let Some(r) = self.regions.get_mut(id as usize) {
            r.closed = true;
            r.cost_head = NONE;
        }
        Ok(())
    }

    /// Makes branch `op` pay the weight of region `id` (now, or when the region closes).
    pub(super) fn charge_region(&mut self, op: u32, id: u32) -> Result<(), Error> {
        let region = *self
            .regions
            .get(id as usize)
            .ok_or_else(|| internal("region"))?;
        if region.closed {
            return self.set_cost(op, region.weight);
        }
        try_push(&mut self.cost_links, (op, region.cost_head))?;
        if let Some(r) = self.regions.get_mut(id as usize) {
            r.cost_head = self.cost_links.len() as u32 - 1;
        }
        Ok(())
    }

    fn set_cost(&mut self, op: u32, weight: u32) -> Result<(), Error> {
        let small = u16::try_from(weight).map_err(|_| internal("region weight"))?;
        match self.ops.get_mut(op as usize) {
            Some(Op::Br { cost, .. }) => *cost = weight,
            Some(op) => *branch_cost(op).ok_or_else(|| internal("not a branch"))? = small,
            None => return Err(internal("branch index")),
        }
        Ok(())
    }
}

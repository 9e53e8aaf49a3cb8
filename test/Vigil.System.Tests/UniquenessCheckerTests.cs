using Vigil.SystemTests.Testbed;

namespace Vigil.SystemTests;

public sealed class UniquenessCheckerTests
{
    private static List<DoubleActivity> Check(params string[] lines) => UniquenessChecker.Check(UniquenessChecker.Parse(lines, "side.log"));

    [Fact]
    public void A_clean_move_is_not_double_activity()
    {
        Assert.Empty(Check("10.0 n1 start vip", "20.0 n1 stop vip", "20.5 n2 start vip"));
    }

    [Fact]
    public void A_start_before_the_other_node_stopped_is_double_activity_with_its_window()
    {
        var found = Assert.Single(Check("10.0 n1 start vip", "20.0 n2 start vip", "20.75 n1 stop vip"));
        Assert.Equal(("vip", "n1", "n2"), (found.Resource, found.NodeA, found.NodeB));
        Assert.Equal(20.0, found.From, 6);
        Assert.Equal(20.75, found.To, 6);
    }

    [Fact]
    public void Power_off_ends_everything_on_that_node_so_a_later_start_elsewhere_is_clean()
    {
        Assert.Empty(Check("10 n1 start dummy", "11 n1 start vip", "30 n1 poweroff *", "30.4 n2 start dummy", "30.5 n2 start vip"));
    }

    [Fact]
    public void A_confirmed_fencing_ends_everything_on_that_node_and_a_start_before_it_is_still_found()
    {
        Assert.Empty(Check("10 n1 start vip", "30 n1 fenced *", "30.4 n2 start vip"));
        var found = Assert.Single(Check("10 n1 start vip", "29 n2 start vip", "30 n1 fenced *"));
        Assert.Equal((29.0, 30.0), (found.From, found.To));
    }

    [Fact]
    public void A_failed_stop_leaves_the_resource_active_so_the_overlap_is_found()
    {
        // No stop line (the stop failed): the resource counts as still running on n1.
        var found = Assert.Single(Check("10 n1 start vip", "30 n2 start vip"));
        Assert.True(double.IsPositiveInfinity(found.To));
    }

    [Fact]
    public void Different_resources_on_different_nodes_are_not_double_activity()
    {
        Assert.Empty(Check("10 n1 start vip", "10 n2 start dummy"));
    }

    [Fact]
    public void A_malformed_line_is_reported_with_its_line_number()
    {
        var e = Assert.Throws<FormatException>(() => Check("10 n1 start vip", "garbage"));
        Assert.Contains("side.log:2", e.Message);
    }
}
